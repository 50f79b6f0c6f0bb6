import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { getBackup } from '../../lib/backup/service';
import { backupServiceDeps } from '../../lib/backup/service';
import { listPages } from '../../lib/kube/list-all';
import { freshNamespace } from '../bed/context';
import { bedConfig, clusterClient, getBytes, getGzipJson, inParallel, observedDeps, requestBackup } from './backup-helpers';

/**
 * A 10,000-object namespace: the backup completes, and its cost is printed next to a
 * bare paginated LIST of the same objects through the same client. Timings are printed,
 * not asserted (a slow machine must not fail CI); the number of API requests is.
 */

const OBJECTS = 10_000;
const CREATE_CONCURRENCY = 40;

describe('a backup of 10,000 objects', () => {
  it('completes with about one API request per 500 objects', { timeout: 300_000 }, async () => {
    const { config, bucket } = await bedConfig('backup-scale');
    const namespace = await freshNamespace('alpha', 'scale');
    const creator = await clusterClient(config);
    const createStart = performance.now();
    await inParallel(
      Array.from({ length: OBJECTS }, (_, i) => i),
      CREATE_CONCURRENCY,
      (i) =>
        creator.create(`/api/v1/namespaces/${namespace}/configmaps`, {
          metadata: { name: `cm-${String(i).padStart(5, '0')}`, labels: { app: 'scale' } },
          data: { index: String(i), note: 'a small object, like most of a cluster' },
        }),
    );
    const createMs = performance.now() - createStart;
    creator.close();

    const name = await requestBackup(config, { cluster: 'alpha', includedNamespaces: [namespace] });
    const observed = await observedDeps(config, name, () => 600_000);
    // One client for both measurements, connected as the runner connects.
    const client = await observed.deps.connect('alpha');

    // Baseline: a bare paginated LIST (limit 500) of the same ConfigMaps.
    const listRequestsBefore = client.requestCount;
    const listStart = performance.now();
    let listed = 0;
    for await (const page of listPages(client, `/api/v1/namespaces/${namespace}/configmaps`, { limit: 500 })) listed += page.length;
    const listMs = performance.now() - listStart;
    const listRequests = client.requestCount - listRequestsBefore;
    expect(listed).toBe(OBJECTS + 1); // and kube-root-ca.crt

    const backupRequestsBefore = client.requestCount;
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);
    const backupStart = performance.now();
    const outcome = await runBackup({ ...observed.deps, connect: async () => client }, name);
    const backupMs = performance.now() - backupStart;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const backupRequests = client.requestCount - backupRequestsBefore;

    expect(outcome).toEqual({ state: 'completed', phase: 'Completed' });
    const backup = await getBackup(backupServiceDeps(config), name);
    expect(backup.status.phase).toBe('Completed');
    expect(backup.status.progress!.itemsBackedUp).toBeGreaterThanOrEqual(OBJECTS);
    const list = await getGzipJson<Record<string, string[]>>(bucket, `backups/${name}/${name}-resource-list.json.gz`);
    expect(list['v1/ConfigMap']).toHaveLength(OBJECTS + 1);

    // The bound: discovery (2), the namespaces (listed at the start and at the end), the
    // PVCs to snapshot, one LIST per type in the namespace, and one more per 400 objects.
    const log = gunzipSync(await getBytes(bucket, `backups/${name}/${name}-logs.gz`)).toString('utf8');
    const types = Number(/msg="collecting resources" types=(\d+)/.exec(log)?.[1]);
    expect(types).toBeGreaterThan(0);
    const bound = Math.ceil(OBJECTS / 400) + 2 + 2 + 1 + types;

    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    // Where the backup's time went, from its own log.
    const lines = log.trim().split('\n').map((line) => ({ at: Date.parse(/time="([^"]+)"/.exec(line)?.[1] ?? ''), msg: /msg=("[^"]*"|\S+)/.exec(line)?.[1] }));
    const timeline = lines.map((l) => `+${l.at - lines[0]!.at} ms ${l.msg}`).join(', ');
    console.log(
      [
        `10k-object backup (${OBJECTS + 1} ConfigMaps, ${backup.status.progress!.itemsBackedUp} items backed up, ${types} types listed)`,
        `  create ${OBJECTS} ConfigMaps (${CREATE_CONCURRENCY} at a time): ${(createMs / 1000).toFixed(1)} s`,
        `  bare paginated LIST (limit 500):  ${listMs.toFixed(0)} ms, ${listRequests} API requests`,
        `  backup (runBackup, end to end):   ${backupMs.toFixed(0)} ms, ${backupRequests} API requests (bound ${bound}), ratio to LIST ${(backupMs / listMs).toFixed(2)}`,
        `  S3 requests: ${JSON.stringify(observed.s3.byOperation())}`,
        `  backup log timeline: ${timeline}`,
        `  RSS: ${mib(rssBefore)} MiB before, ${mib(peakRss)} MiB peak during the backup (process maxRSS ${mib(process.resourceUsage().maxRSS * 1024)} MiB)`,
      ].join('\n'),
    );
    expect(listRequests).toBe(Math.ceil((OBJECTS + 1) / 500));
    expect(backupRequests).toBeLessThanOrEqual(bound);

    // 10,000 objects would slow every later all-namespaces backup on the shared bed.
    const cleaner = await clusterClient(config);
    await cleaner.delete(`/api/v1/namespaces/${namespace}`);
    cleaner.close();
  });
});
