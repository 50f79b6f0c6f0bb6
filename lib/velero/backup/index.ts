/** Velero's Backup object: its types, spec schema and rules, defaults, and JSON form. */
export * from './types';
export * from './defaults';
export * from './spec-schema';
export * from './validation';
export * from './spec';
export * from './new-backup';
export * from './serialize';
export * from './stored';
export * from './unsupported-fields';
