import { createServer, type Server } from 'node:net';

function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/**
 * Distinct TCP ports on 127.0.0.1 that were free a moment ago, one per name. The
 * programs of the bed take their ports as flags, so ports are found first and
 * handed over. All probes stay open together so no port is returned twice; the
 * short race with other processes after closing them is accepted (Linux does not
 * hand a just-freed ephemeral port out again soon).
 */
export async function freePorts<Name extends string>(...names: Name[]): Promise<Record<Name, number>> {
  const servers = await Promise.all(names.map(listenOnAnyPort));
  const ports = {} as Record<Name, number>;
  names.forEach((name, i) => {
    const address = servers[i]?.address();
    if (!address || typeof address !== 'object') throw new Error('could not read the port of a probe listener');
    ports[name] = address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
