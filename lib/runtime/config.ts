import { configWarnings, fetchConfigText, loadConfig, type ConfigText, type SkiffConfig } from '../config';
import { logger } from '../core/logger';
import packageJson from '../../package.json' with { type: 'json' };

/**
 * What every function builds once per cold start. Configuration is read and
 * validated here, so a bad file stops the function at start with every wrong field
 * named, instead of failing later in the middle of a backup.
 */
export interface Runtime {
  config: SkiffConfig;
  version: string;
}

/**
 * The configuration document named by SKIFF_CONFIG_PARAMETER or SKIFF_CONFIG_SECRET,
 * read while the module loads (Lambda's init phase) so that `runtime()` stays
 * synchronous for the handlers that call it at import. A failed read is kept and
 * thrown by `runtime()`, where a bad configuration file would be.
 */
const fetched: { text?: ConfigText; error?: unknown } = await fetchConfigText().then(
  (text) => ({ text }),
  (error: unknown) => ({ error }),
);

let current: Runtime | undefined;

export function runtime(): Runtime {
  if (!current) {
    if (fetched.error) throw fetched.error;
    const config = loadConfig(process.env, fetched.text);
    for (const warning of configWarnings(config)) logger.warn('configuration warning', { warning });
    current = { config, version: packageJson.version };
  }
  return current;
}
