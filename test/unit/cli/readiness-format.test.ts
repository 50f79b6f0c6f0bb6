import { describe, expect, it } from 'vitest';
import { readinessTable } from '../../../cli/readiness-format';
import { skippedSlotsTable } from '../../../cli/format';
import { readinessReport } from '../../../lib/readiness/findings';

describe('readinessTable', () => {
  it('lists each finding with its objects and action, blocking ones first, then the verdict', () => {
    const report = readinessReport('prod', new Date('2026-01-01T00:00:00Z'), [
      { check: 'snapshot-coverage', severity: 'warn', message: '1 PVC in namespace shop will not be snapshotted', objects: ['PVC shop/a'], action: 'create a class' },
      { check: 'single-replica', severity: 'block', message: '1 detached single-replica Longhorn volume', objects: ['Volume longhorn-system/pvc-1'], action: 'raise replicas' },
    ]);
    expect(readinessTable(report)).toBe(
      [
        'Cluster prod, checked 2026-01-01T00:00:00.000Z',
        '',
        'SEVERITY   CHECK               FINDING',
        'BLOCK      single-replica      1 detached single-replica Longhorn volume',
        '                               - Volume longhorn-system/pvc-1',
        '                               → raise replicas',
        'WARN       snapshot-coverage   1 PVC in namespace shop will not be snapshotted',
        '                               - PVC shop/a',
        '                               → create a class',
        '',
        'NOT READY: 1 blocking, 1 warning, 0 info',
      ].join('\n'),
    );
  });
});

describe('skippedSlotsTable', () => {
  it('lists each skipped slot with its reasons', () => {
    const slot = (backup: string, reasons: string[]) => ({ schedule: 'n', backup, slot: '2026-06-01T10:00:00.000Z', cluster: 'prod', reasons, recordedAt: '' });
    expect(skippedSlotsTable([slot('n-20260601100000', ['volumes at risk: Volume a', 'access: x']), slot('n-2', [])])).toBe(
      [
        'SKIPPED SLOT (readiness: block)',
        'n-20260601100000   2026-06-01T10:00:00.000Z   cluster prod',
        '                   - volumes at risk: Volume a',
        '                   - access: x',
        'n-2                2026-06-01T10:00:00.000Z   cluster prod',
      ].join('\n'),
    );
  });
});
