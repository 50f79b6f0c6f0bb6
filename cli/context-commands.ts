import type { CliFlags, ContextCommand } from './args';
import { table } from './format';
import { addContext, contextFilePath, readContextFile, useContext } from './client/contexts';

/**
 * `skiff context add|use|list`: the contexts file (cli/client/contexts.ts), like
 * `kubectl config set-context|use-context|get-contexts`. Tokens are never printed.
 */
export async function runContextCommand(command: ContextCommand, name: string | undefined, flags: CliFlags): Promise<void> {
  const path = contextFilePath();
  switch (command) {
    case 'add':
      addContext({ name: name!, server: flags.server!, token: flags.token, tokenEnv: flags.tokenEnv, tokenCommand: flags.tokenCommand }, path);
      console.log(`Context "${name}" added to ${path} and made current.`);
      return;
    case 'use':
      useContext(name!, path);
      console.log(`Switched to context "${name}".`);
      return;
    case 'list': {
      const file = readContextFile(path);
      if (file.contexts.length === 0) return void console.log(`No contexts in ${path}; add one with skiff context add NAME --server URL --token-env VAR.`);
      const source = (c: (typeof file.contexts)[number]) =>
        c.tokenEnv ? `env ${c.tokenEnv}` : c.tokenCommand ? `command` : c.token !== undefined ? 'in file' : '<none>';
      const rows = file.contexts.map((c) => [c.name === file['current-context'] ? '*' : '', c.name, c.server, source(c)]);
      console.log(table([['CURRENT', 'NAME', 'SERVER', 'TOKEN'], ...rows]));
    }
  }
}
