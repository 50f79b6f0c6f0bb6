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
  const answer: { client: { version: string }; server?: { version?: string; url: string; error?: string } } = { client: { version: clientVersion } };
  if (mode?.kind === 'client') {
    try {
      const server = await mode.api.json<{ version: string }>('GET', '/version');
      answer.server = { version: server.version, url: mode.server };
    } catch (error) {
      // The client's version is still worth printing; the exit code says the server did not answer.
      answer.server = { url: mode.server, error: (error as Error).message };
      process.exitCode = 1;
    }
  }
  await printAs(flags.output, answer, () => versionText(answer.client.version, answer.server));
}

function versionText(client: string, server: { version?: string; url: string; error?: string } | undefined): string {
  const lines = ['Client:', `\tVersion: ${client}`];
  if (server) lines.push('', 'Server:', server.error ? `\tError: ${server.error}` : `\tVersion: ${server.version}`, `\tURL: ${server.url}`);
  return lines.join('\n');
}
