import { describe, expect, it } from 'vitest';
import { procAddress } from '../../bed/velero';

describe('procAddress reads /proc/net/tcp{,6} addresses', () => {
  it.each([
    ['0100007F:1F90', '127.0.0.1:8080'],
    ['00000000:1F95', '0.0.0.0:8085'],
    ['0000000000000000FFFF00000100007F:0050', '127.0.0.1:80'],
    ['00000000000000000000000001000000:0050', '[0000:0000:0000:0000:0000:0000:0000:0001]:80'],
    ['00000000000000000000000000000000:1F90', '[0000:0000:0000:0000:0000:0000:0000:0000]:8080'],
  ])('%s is %s', (hex, address) => {
    expect(procAddress(hex)).toBe(address);
  });
});
