import { describe, expect, it } from 'vitest';
import { BACKUP_NAME_LABEL, RESTORE_NAME_LABEL, TEMPORARY_CONTENT_LABEL } from '../../../lib/velero/labels';
import { forVolumeSnapshotContent } from '../../builders';
import { contentsTwice } from '../../chaos/invariants';

const ofBackup = (name: string, handle: string, extra: Record<string, string> = {}) =>
  forVolumeSnapshotContent(name).labels({ [BACKUP_NAME_LABEL]: 'b1', ...extra }).handle(handle).ready().result();
const staticOfBackup = (name: string, handle: string, extra: Record<string, string> = {}) =>
  forVolumeSnapshotContent(name).labels({ [BACKUP_NAME_LABEL]: 'b1', ...extra }).staticHandle(handle).result();

describe('Function: contentsTwice (chaos invariant "sync makes no content twice")', () => {
  it.each([
    { case: 'one content per snapshot', contents: [ofBackup('snapcontent-1', 'h1'), ofBackup('snapcontent-2', 'h2')], twice: [] },
    { case: 'a synced copy beside the dynamic content', contents: [ofBackup('snapcontent-1', 'h1'), staticOfBackup('b1-copy', 'h1')], twice: ['h1: snapcontent-1 and b1-copy'] },
    {
      // Chaos seed 20261209, lifecycle 96 (seed 601198750): an expiry run that ran out of time left these.
      case: "expiry's temporary content beside the dynamic content",
      contents: [ofBackup('snapcontent-1', 'h1'), staticOfBackup('skiff-expiry-1', 'h1', { [TEMPORARY_CONTENT_LABEL]: 'true' })],
      twice: [],
    },
    { case: "a restore's content beside it", contents: [ofBackup('snapcontent-1', 'h1'), staticOfBackup('r1-1', 'h1', { [RESTORE_NAME_LABEL]: 'r1' })], twice: [] },
    { case: "another lifecycle's backup", contents: [ofBackup('snapcontent-1', 'h1'), staticOfBackup('x', 'h1', { [BACKUP_NAME_LABEL]: 'other' })], twice: [] },
  ])('$case', ({ contents, twice }) => {
    expect(contentsTwice('alpha', contents, new Set(['b1']))).toEqual(twice.map((t) => `cluster alpha has two contents for snapshot ${t}`));
  });
});
