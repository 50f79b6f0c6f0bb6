import { describe, expect, it } from 'vitest';
import { podBackupHooks } from '../../../lib/velero/hook-annotations';
import { skippedHooksWarning } from '../../../lib/backup/hook-warnings';
import type { KubeObject } from '../../../lib/kube/list-all';

describe('Module: velero/hook-annotations', () => {
  it.each<[string, Record<string, string> | undefined, unknown[]]>([
    ['no annotations', undefined, []],
    ['unrelated annotations', { 'app.kubernetes.io/name': 'db' }, []],
    ['a container but no command', { 'pre.hook.backup.velero.io/container': 'db' }, []],
    [
      'a pre hook with every variant',
      {
        'pre.hook.backup.velero.io/command': '["/sbin/fsfreeze","--freeze","/data"]',
        'pre.hook.backup.velero.io/container': 'fsfreeze',
        'pre.hook.backup.velero.io/on-error': 'Fail',
        'pre.hook.backup.velero.io/timeout': '30s',
      },
      [
        {
          phase: 'pre',
          commandKey: 'pre.hook.backup.velero.io/command',
          command: '["/sbin/fsfreeze","--freeze","/data"]',
          container: 'fsfreeze',
          onError: 'Fail',
          timeout: '30s',
        },
      ],
    ],
    [
      'the legacy unphased keys as a pre hook',
      { 'hook.backup.velero.io/command': 'sync', 'hook.backup.velero.io/container': 'app' },
      [{ phase: 'pre', commandKey: 'hook.backup.velero.io/command', command: 'sync', container: 'app' }],
    ],
    [
      'the phased pre hook before the legacy one',
      { 'pre.hook.backup.velero.io/command': 'a', 'hook.backup.velero.io/command': 'b' },
      [{ phase: 'pre', commandKey: 'pre.hook.backup.velero.io/command', command: 'a' }],
    ],
    [
      'pre and post hooks',
      { 'post.hook.backup.velero.io/command': 'thaw', 'pre.hook.backup.velero.io/command': 'freeze' },
      [
        { phase: 'pre', commandKey: 'pre.hook.backup.velero.io/command', command: 'freeze' },
        { phase: 'post', commandKey: 'post.hook.backup.velero.io/command', command: 'thaw' },
      ],
    ],
  ])('reads %s', (_, annotations, hooks) => {
    expect(podBackupHooks(annotations)).toEqual(hooks);
  });
});

describe('Module: backup/hook-warnings', () => {
  const pod = (annotations?: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'shop', name: 'db-0', ...(annotations ? { annotations } : {}) },
  });

  it('says nothing of a pod without hooks', () => {
    expect(skippedHooksWarning(pod())).toBeUndefined();
    expect(skippedHooksWarning(pod({ 'post.hook.backup.velero.io/timeout': '1m' }))).toBeUndefined();
  });

  it('names each hook that did not run, with its container, error mode and timeout', () => {
    const warning = skippedHooksWarning(
      pod({
        'pre.hook.backup.velero.io/command': 'fsfreeze -f /data',
        'pre.hook.backup.velero.io/container': 'db',
        'pre.hook.backup.velero.io/on-error': 'Fail',
        'post.hook.backup.velero.io/command': 'fsfreeze -u /data',
      }),
    );
    expect(warning).toBe(
      'pod shop/db-0 declares the backup pre hook pre.hook.backup.velero.io/command="fsfreeze -f /data" ' +
        '(container db, on-error Fail) and post hook post.hook.backup.velero.io/command="fsfreeze -u /data"; Skiff does not ' +
        'run hooks (it does not exec into pods), so they did not run and the backup is not application-consistent',
    );
  });
});
