import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, NotFoundError } from '../core/errors';
import { resolveSecret, type ClusterConfig, type SecretSources, type SkiffConfig } from '../config';
import { KubeClient, type KubeTransport } from './client';
import { RateLimiter } from './rate-limiter';

/**
 * Builds a client for one configured cluster: resolves its credentials, lets the
 * official client library interpret them (kubeconfig files, tokens, certificates),
 * and keeps one keep-alive connection pool with the cluster's rate limit.
 */
export async function connectCluster(cluster: ClusterConfig, sources: SecretSources = {}): Promise<KubeClient> {
  const kubeConfig = await kubeConfigFor(cluster, sources);
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new ConfigError(`cluster "${cluster.name}": no API server URL (set server, or a kubeconfig context with one)`);
  if (server.startsWith('http://') && !cluster.insecureSkipTLSVerify) {
    throw new ConfigError(`cluster "${cluster.name}": ${server} is plain http; use https or set insecureSkipTLSVerify`);
  }
  const options: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(options);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 16,
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    rejectUnauthorized: !cluster.insecureSkipTLSVerify,
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (typeof value === 'string') headers[name.toLowerCase()] = value;
  }
  if (options.auth) headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  const transport: KubeTransport = { server: server.replace(/\/+$/, ''), agent, headers, send: httpsRequest };
  return new KubeClient(cluster.name, transport, new RateLimiter(cluster.qps, cluster.burst));
}

async function kubeConfigFor(cluster: ClusterConfig, sources: SecretSources): Promise<KubeConfig> {
  const kubeConfig = new KubeConfig();
  const { auth } = cluster;
  if ('kubeconfig' in auth) {
    try {
      kubeConfig.loadFromString(await resolveSecret(auth.kubeconfig, sources));
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      // The parser's message may quote the document; say only which cluster's kubeconfig is broken.
      throw new ConfigError(`cluster "${cluster.name}": auth.kubeconfig is not a valid kubeconfig`);
    }
    if (auth.context) kubeConfig.setCurrentContext(auth.context);
    if (!kubeConfig.getCurrentContext() || !kubeConfig.getCurrentCluster()) {
      throw new ConfigError(`cluster "${cluster.name}": the kubeconfig has no usable current context`);
    }
    if (cluster.server || cluster.caData || cluster.caFile) overrideCluster(kubeConfig, cluster);
    return kubeConfig;
  }
  const user =
    'token' in auth
      ? { name: 'skiff', token: await resolveSecret(auth.token, sources) }
      : {
          name: 'skiff',
          certData: toBase64Pem(await resolveSecret(auth.clientCertificate.cert, sources)),
          keyData: toBase64Pem(await resolveSecret(auth.clientCertificate.key, sources)),
        };
  kubeConfig.loadFromOptions({
    clusters: [clusterEntry(cluster)],
    users: [user],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: 'skiff' }],
    currentContext: cluster.name,
  });
  return kubeConfig;
}

function clusterEntry(cluster: ClusterConfig) {
  return {
    name: cluster.name,
    server: cluster.server,
    skipTLSVerify: cluster.insecureSkipTLSVerify,
    ...(cluster.caData ? { caData: toBase64Pem(cluster.caData) } : {}),
    ...(cluster.caFile ? { caFile: cluster.caFile } : {}),
  };
}

function overrideCluster(kubeConfig: KubeConfig, cluster: ClusterConfig): void {
  const current = kubeConfig.getCurrentCluster()!;
  const merged = {
    ...current,
    ...(cluster.server ? { server: cluster.server } : {}),
    ...(cluster.caData ? { caData: toBase64Pem(cluster.caData), caFile: undefined } : {}),
    ...(cluster.caFile ? { caFile: cluster.caFile, caData: undefined } : {}),
    skipTLSVerify: cluster.insecureSkipTLSVerify || current.skipTLSVerify,
  };
  kubeConfig.clusters = kubeConfig.clusters.map((c) => (c.name === current.name ? merged : c));
}

/** Kubeconfig `*-data` fields are base64 of PEM; configuration may give either. */
function toBase64Pem(value: string): string {
  return value.trimStart().startsWith('-----BEGIN') ? Buffer.from(value).toString('base64') : value.trim();
}

/**
 * Connects to a configured cluster by name (a fresh client each call). NotFoundError
 * when the cluster is not (or no longer) configured.
 */
export function clusterConnector(config: SkiffConfig): (name: string) => Promise<KubeClient> {
  return async (name: string) => {
    const cluster = config.clusters.find((c) => c.name === name);
    if (!cluster) throw new NotFoundError('cluster', name, 'it is no longer configured');
    return connectCluster(cluster);
  };
}
