import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addContext, contextFilePath, contextToken, readContextFile, useContext } from '../../../cli/client/contexts';
import { resolveMode } from '../../../cli/mode';

describe('Function: resolveMode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-mode-'));
  const contexts = join(dir, 'contexts');
  addContext({ name: 'ctx', server: 'https://from-context.example', token: 't' }, contexts);
  const quiet = { SKIFF_CONTEXT_FILE: join(dir, 'none') };

  it.each([
    [{}, { SKIFF_SERVER: 'https://env.example', SKIFF_TOKEN: 't', ...quiet }, 'client https://env.example'],
    [{ server: 'https://flag.example' }, { SKIFF_TOKEN: 't', SKIFF_CONFIG_FILE: '/etc/skiff.yaml', ...quiet }, 'client https://flag.example'],
    [{ local: true }, { SKIFF_SERVER: 'https://env.example', SKIFF_TOKEN: 't', SKIFF_CONFIG_FILE: '/etc/skiff.yaml', ...quiet }, 'local /etc/skiff.yaml'],
    [{ config: '/tmp/c.yaml' }, { ...quiet }, 'local /tmp/c.yaml'],
    [{}, { SKIFF_CONFIG: '{}', ...quiet }, 'local SKIFF_CONFIG'],
    [{}, { SKIFF_CONTEXT_FILE: contexts }, 'client https://from-context.example'],
    [{ context: 'ctx' }, { SKIFF_CONTEXT_FILE: contexts, SKIFF_CONFIG_FILE: '/etc/skiff.yaml' }, 'client https://from-context.example'],
  ])('flags %j with environment %j: %s', async (flags, env, expected) => {
    const mode = await resolveMode(flags, { ...env });
    expect(mode.kind === 'client' ? `client ${mode.server}` : `local ${mode.source}`).toBe(expected);
  });

  it.each([
    [{}, { ...quiet }, /no Skiff to talk to: .*SKIFF_SERVER and SKIFF_TOKEN.*--local with SKIFF_CONFIG_FILE/],
    [{ local: true }, { ...quiet }, /--config FILE or SKIFF_CONFIG_FILE/],
    [{ server: 'https://x' }, { ...quiet }, /needs a bearer token in SKIFF_TOKEN/],
    [{ context: 'nope' }, { SKIFF_CONTEXT_FILE: contexts }, /context "nope" not found/],
  ])('refuses flags %j with environment %j', async (flags, env, message) => {
    await expect(resolveMode(flags, { ...env })).rejects.toThrow(message);
  });
});

describe('Module: cli/client/contexts', () => {
  it('keeps contexts in $XDG_CONFIG_HOME/skiff/config, else ~/.config/skiff/config', () => {
    expect(contextFilePath({ XDG_CONFIG_HOME: '/x' })).toBe('/x/skiff/config');
    expect(contextFilePath({ HOME: '/home/u' })).toMatch(/\.config\/skiff\/config$/);
    expect(contextFilePath({ SKIFF_CONTEXT_FILE: '/f' })).toBe('/f');
  });

  it('writes the file with mode 0600, replaces a context of the same name and switches', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'skiff-ctx-')), 'skiff', 'config');
    addContext({ name: 'a', server: 'https://a', token: 'secret' }, file);
    addContext({ name: 'b', server: 'https://b', tokenEnv: 'B_TOKEN' }, file);
    addContext({ name: 'a', server: 'https://a2', tokenCommand: 'echo x' }, file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readContextFile(file)).toEqual({
      'current-context': 'a',
      contexts: [
        { name: 'b', server: 'https://b', tokenEnv: 'B_TOKEN' },
        { name: 'a', server: 'https://a2', tokenCommand: 'echo x' },
      ],
    });
    useContext('b', file);
    expect(readContextFile(file)['current-context']).toBe('b');
    expect(() => useContext('c', file)).toThrow(/context "c" not found/);
  });

  it.each([
    [{ name: 'x', server: 'https://x' }, 'exactly one'],
    [{ name: 'x', server: 'https://x', token: 'a', tokenEnv: 'B' }, 'exactly one'],
    [{ name: 'x', server: 'not a url', token: 'a' }, 'is not a URL'],
  ])('refuses the context %j', (context, message) => {
    expect(() => addContext(context, join(tmpdir(), 'never-written'))).toThrow(message);
  });

  it.each([
    [{ name: 'c', server: 's', token: 'inline' }, {}, 'inline'],
    [{ name: 'c', server: 's', tokenEnv: 'T' }, { T: 'from-env' }, 'from-env'],
    [{ name: 'c', server: 's', tokenCommand: 'echo from-command' }, {}, 'from-command'],
  ])('reads the token of %j', (context, env, token) => {
    const file = join(mkdtempSync(join(tmpdir(), 'skiff-ctx-')), 'config');
    writeFileSync(file, '', { mode: 0o600 });
    expect(contextToken(context, file, env)).toBe(token);
  });

  it('names the variable, never a value, when the token is missing', () => {
    expect(() => contextToken({ name: 'c', server: 's', tokenEnv: 'MISSING' }, '/f', {})).toThrow('$MISSING, which is not set');
  });
});
