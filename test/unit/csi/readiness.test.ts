import { describe, expect, it } from 'vitest';
import { assessSnapshot, contentNeeded, type AssessSnapshotInput } from '../../../lib/csi/readiness';
import { nextPollDelayMs } from '../../../lib/csi/polling';
import { forVolumeSnapshot, forVolumeSnapshotContent } from '../../builders';

const vs = () => forVolumeSnapshot('app', 'velero-data-x').source('data');
const vsc = () => forVolumeSnapshotContent('snapcontent-1').driver('driver.longhorn.io');

function assess(partial: Partial<AssessSnapshotInput>) {
  return assessSnapshot({
    pvc: { namespace: 'app', name: 'data' },
    driver: 'driver.longhorn.io',
    volumeSnapshot: vs().result(),
    content: undefined,
    elapsedMs: 1000,
    timeoutMs: 60_000,
    timeoutText: '1m0s',
    ...partial,
  });
}

describe('Module: csi/readiness', () => {
  it.each([
    ['a new VolumeSnapshot waits for binding', vs(), undefined, 'binding'],
    ['a bound one waits for the handle', vs().boundTo('snapcontent-1'), vsc(), 'handle'],
    ['a cut but unready snapshot waits for readiness', vs().boundTo('snapcontent-1'), vsc().handle('bak://v/b'), 'ready'],
    ['a ready content waits for its VolumeSnapshot to say so', vs().boundTo('snapcontent-1'), vsc().handle('bak://v/b').ready(), 'ready'],
    ['an error on the VolumeSnapshot alone waits (the controller retries)', vs().error('transient'), undefined, 'binding'],
    ['a VolumeSnapshot claiming readiness without a content waits for binding', vs().ready(), undefined, 'binding'],
  ])('%s', (_, snapshot, content, waitingFor) => {
    expect(assess({ volumeSnapshot: snapshot.result(), content: content?.result() })).toEqual({ kind: 'pending', waitingFor });
  });

  it('is ready once its VolumeSnapshot says so, which the controller only says of a cut, ready content', () => {
    expect(assess({ volumeSnapshot: vs().boundTo('snapcontent-1').ready().result() })).toEqual({ kind: 'ready' });
  });

  it('does not fail a snapshot whose content got over an earlier error', () => {
    const content = vsc().error('first try failed').handle('h').ready().result();
    const snapshot = vs().boundTo('snapcontent-1').error('first try failed').result();
    expect(assess({ volumeSnapshot: snapshot, content })).toEqual({ kind: 'pending', waitingFor: 'ready' });
  });

  it.each([
    ['a new VolumeSnapshot', vs(), 1000, false],
    ['a bound one on its way', vs().boundTo('c'), 1000, false],
    ['a bound one with an error', vs().boundTo('c').error('e'), 1000, true],
    ['an unbound one with an error (no content to read)', vs().error('e'), 1000, false],
    ['a bound one out of time', vs().boundTo('c'), 60_000, true],
    ['a ready one', vs().boundTo('c').ready(), 60_000, false],
  ])('reads the content of %s after %i ms: %s', (_, snapshot, elapsedMs, needed) => {
    expect(contentNeeded(snapshot.result(), elapsedMs, 60_000)).toBe(needed);
  });

  it.each([
    ['its VolumeSnapshot deleted', undefined, undefined, ['the VolumeSnapshot of PVC app/data was deleted by someone else']],
    ['its VolumeSnapshot being deleted', vs().deleting().result(), undefined, ['deleted by someone else']],
  ])('fails a snapshot on %s', (_, snapshot, content, parts) => {
    const result = assess({ volumeSnapshot: snapshot, content });
    expect(result.kind).toBe('failed');
    for (const part of parts) expect(result.kind === 'failed' && result.message).toContain(part);
  });

  it.each([
    ['early: the driver may still succeed (Velero #10483)', 1000, { kind: 'pending', waitingFor: 'handle', error: 'disk busy' }],
    ['at the timeout: the driver\'s error is the cause', 60_000, {
      kind: 'failed',
      message:
        'the CSI driver driver.longhorn.io could not snapshot PVC app/data (VolumeSnapshot app/velero-data-x, ' +
        'VolumeSnapshotContent snapcontent-1): disk busy, still failing after csiSnapshotTimeout 1m0s; check the driver and its storage system',
    }],
  ])('an error on the content, %s', (_, elapsedMs, expected) => {
    const snapshot = vs().boundTo('snapcontent-1').error('disk busy').result();
    expect(assess({ volumeSnapshot: snapshot, content: vsc().error('disk busy').result(), elapsedMs })).toEqual(expected);
  });

  it.each([
    ['binding', vs().error('class not found'), undefined, ['did not bind it to a VolumeSnapshotContent', 'last error: class not found']],
    ['the handle', vs().boundTo('snapcontent-1'), vsc(), ['did not report a snapshot handle on VolumeSnapshotContent snapcontent-1']],
    ['readiness', vs().boundTo('snapcontent-1'), vsc().handle('bak://v/b'), ['cut (handle bak://v/b) but did not become ready']],
  ])('times out waiting for %s, saying what to do', (_, snapshot, content, parts) => {
    const result = assess({ volumeSnapshot: snapshot.result(), content: content?.result(), elapsedMs: 60_000 });
    expect(result.kind).toBe('timed-out');
    const message = result.kind === 'timed-out' ? result.message : '';
    expect(message).toContain('PVC app/data (VolumeSnapshot app/velero-data-x) was not ready within csiSnapshotTimeout 1m0s');
    expect(message).toContain('raise spec.csiSnapshotTimeout');
    for (const part of parts) expect(message).toContain(part);
  });

  it.each([
    ['right after a change', 0, 250],
    ['1 s after the last change', 1000, 500],
    ['3 s after the last change', 3000, 1500],
    ['a minute after the last change', 60_000, 2000],
  ])('polls %s (%i ms) again after %i ms', (_, quiet, delay) => {
    expect(nextPollDelayMs({ now: 100_000, lastChangeAt: 100_000 - quiet, earliestDeadlineAt: 1e9 })).toBe(delay);
  });

  it.each([
    ['a deadline sooner than the backoff', 100_050, 50],
    ['a deadline that has passed', 99_000, 0],
  ])('never sleeps past %s', (_, deadline, delay) => {
    expect(nextPollDelayMs({ now: 100_000, lastChangeAt: 40_000, earliestDeadlineAt: deadline })).toBe(delay);
  });

  it('follows a custom schedule', () => {
    expect(nextPollDelayMs({ now: 10_000, lastChangeAt: 0, earliestDeadlineAt: 1e9 }, { minMs: 10, maxMs: 100 })).toBe(100);
  });
});
