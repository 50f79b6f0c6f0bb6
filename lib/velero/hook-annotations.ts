import {
  BACKUP_HOOK_COMMAND_KEY,
  BACKUP_HOOK_CONTAINER_KEY,
  BACKUP_HOOK_ON_ERROR_KEY,
  BACKUP_HOOK_TIMEOUT_KEY,
} from './labels';

/** A backup hook a pod declares by annotations, as Velero reads it. */
export interface PodBackupHook {
  phase: 'pre' | 'post';
  /** The annotation key that declares it, e.g. `pre.hook.backup.velero.io/command`. */
  commandKey: string;
  command: string;
  container?: string;
  onError?: string;
  timeout?: string;
}

/**
 * The backup hooks a pod's annotations declare, read as Velero's
 * getPodExecHookFromAnnotations does (internal/hook/item_hook_handler.go): per phase, a
 * hook exists when `<phase>.hook.backup.velero.io/command` is set; for the pre phase the
 * legacy keys without a phase are read when the phased command is absent. Pre first.
 */
export function podBackupHooks(annotations: Record<string, string> | undefined): PodBackupHook[] {
  if (!annotations) return [];
  const hooks: PodBackupHook[] = [];
  for (const phase of ['pre', 'post'] as const) {
    const prefixes = phase === 'pre' ? ['pre.', ''] : ['post.'];
    const prefix = prefixes.find((p) => annotations[`${p}${BACKUP_HOOK_COMMAND_KEY}`]);
    if (prefix === undefined) continue;
    const value = (key: string) => annotations[`${prefix}${key}`] || undefined;
    hooks.push({
      phase,
      commandKey: `${prefix}${BACKUP_HOOK_COMMAND_KEY}`,
      command: annotations[`${prefix}${BACKUP_HOOK_COMMAND_KEY}`]!,
      ...optional('container', value(BACKUP_HOOK_CONTAINER_KEY)),
      ...optional('onError', value(BACKUP_HOOK_ON_ERROR_KEY)),
      ...optional('timeout', value(BACKUP_HOOK_TIMEOUT_KEY)),
    });
  }
  return hooks;
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
