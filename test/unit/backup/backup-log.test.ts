import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BackupLog, logText } from '../../../lib/backup/backup-log';

describe('Module: backup/backup-log', () => {
  it.each([
    ['no lines: an empty file', [], ''],
    ['one line, ended by a newline', ['a'], 'a\n'],
    ['each line ended by a newline', ['a', 'b'], 'a\nb\n'],
  ])('logText: %s', (_name, lines, want) => {
    expect(logText(lines)).toBe(want);
  });

  it('gzips the same text a progress record shows, so a log reads alike in every phase', () => {
    const log = new BackupLog([], () => new Date('2026-06-01T10:00:00Z'));
    log.info('backup started', { cluster: 'alpha' });
    log.error('backup failed: cannot reach API server');
    expect(gunzipSync(log.gzip()).toString('utf8')).toBe(logText(log.snapshot()));
    expect(logText(log.snapshot())).toBe(
      'time="2026-06-01T10:00:00.000Z" level=info msg="backup started" cluster=alpha\n' +
        'time="2026-06-01T10:00:00.000Z" level=error msg="backup failed: cannot reach API server"\n',
    );
  });
});
