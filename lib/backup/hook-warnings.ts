import type { KubeObject } from '../kube/list-all';
import { podBackupHooks } from '../velero/hook-annotations';

/**
 * The warning for a backed-up pod that declares Velero backup hooks by annotations
 * (`pre.hook.backup.velero.io/command`, ...), naming each hook: Skiff does not exec into
 * pods, so none of them ran, and no one should take the backup for an application-
 * consistent one. Undefined for a pod without hooks. One warning per pod.
 */
export function skippedHooksWarning(pod: KubeObject): string | undefined {
  const hooks = podBackupHooks(pod.metadata.annotations);
  if (hooks.length === 0) return undefined;
  const described = hooks.map((hook) => {
    const details = [
      hook.container ? `container ${hook.container}` : undefined,
      hook.onError ? `on-error ${hook.onError}` : undefined,
      hook.timeout ? `timeout ${hook.timeout}` : undefined,
    ].filter((d): d is string => d !== undefined);
    return `${hook.phase} hook ${hook.commandKey}=${JSON.stringify(hook.command)}${details.length ? ` (${details.join(', ')})` : ''}`;
  });
  return (
    `pod ${pod.metadata.namespace}/${pod.metadata.name} declares the backup ${described.join(' and ')}; ` +
    `Skiff does not run hooks (it does not exec into pods), so ${hooks.length > 1 ? 'they' : 'it'} did not run and the ` +
    'backup is not application-consistent'
  );
}
