export { loadConfig, validateConfig, CONFIG_FILE_ENV, CONFIG_INLINE_ENV, OVERRIDE_PREFIX } from './load';
export { configWarnings, rediscoveryOffWarning } from './warnings';
export { durationMs } from './duration-field';
export { describeSecretSource, type SecretValue } from './secret-value';
export type { SkiffConfig, ClusterConfig, ClusterSyncConfig, StorageLocationConfig, ClusterAuth, ApiConfig, ScheduleConfig } from './schema';
export {
  resolveSecret,
  secretsManagerReader,
  SECRET_MAX_AGE_SECONDS,
  type SecretSources,
  type SecretsManagerReader,
  type SecretsManagerReaderOptions,
} from './resolve-secret';
export { storageLocationViews, type StorageLocationView } from './storage-locations';
export {
  fetchConfigText,
  parameterStoreReader,
  CONFIG_PARAMETER_ENV,
  CONFIG_SECRET_ENV,
  CONFIG_MAX_AGE_SECONDS,
  type ConfigText,
  type ParameterReader,
  type RemoteConfigReaders,
} from './remote-source';
