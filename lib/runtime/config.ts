import { configWarnings, loadConfig, type SkiffConfig } from '../config';
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

let current: Runtime | undefined;

export function runtime(): Runtime {
  if (!current) {
    const config = loadConfig();
    for (const warning of configWarnings(config)) logger.warn('configuration warning', { warning });
    current = { config, version: packageJson.version };
  }
  return current;
}
