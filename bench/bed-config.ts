import { validateConfig, type ClusterConfig, type SkiffConfig } from '../lib/config';
import { readBedState } from '../test/bed/state';
import { skiffConfigForBed } from '../test/bed/skiff-config';

/** The Skiff configuration the bench runs with: the bed's clusters, one MinIO bucket. */
export function benchConfig(statePath: string, bucket: string): SkiffConfig {
  return validateConfig(skiffConfigForBed(readBedState(statePath), { bucket, apiToken: 'bench' }), 'bench');
}

export function clusterConfig(config: SkiffConfig, name: string): ClusterConfig {
  const cluster = config.clusters.find((c) => c.name === name);
  if (!cluster) throw new Error(`the bench configuration has no cluster "${name}"`);
  return cluster;
}
