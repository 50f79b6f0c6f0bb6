import type { CliFlags } from './args';
import type { Mode } from './mode';
import { printAs } from './output';

/** The version the CLI was built with (package.json's, put in by the bundler), or "dev" from sources. */
declare const SKIFF_VERSION: string | undefined;
const clientVersion = typeof SKIFF_VERSION === 'string' ? SKIFF_VERSION : 'dev';

/**
 * `skiff version`: the client's version and, in client mode, the server's (GET /version),
 * as `velero version` prints both.
 */
export async function runVersionCommand(mode: Mode | undefined, flags: CliFlags): Promise<void> {
  const answer: { client: { version: string }; server?: { version: string; url: string } } = { client: { version: clientVersion } };
  if (mode?.kind === 'client') {
    const server = await mode.api.json<{ version: string }>('GET', '/version');
    answer.server = { version: server.version, url: mode.server };
  }
  await printAs(flags.output, answer, () =>
    [`Client:`, `\tVersion: ${answer.client.version}`, ...(answer.server ? ['', `Server:`, `\tVersion: ${answer.server.version}`, `\tURL: ${answer.server.url}`] : [])].join('\n'),
  );
}
