import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, posix } from 'node:path';

/**
 * Skiff's local Serverless plugin.
 *
 * - `package` (and so `deploy`), and `deploy function`, refuse a configuration that
 *   would put a secret into the CloudFormation template or the package, names a path
 *   that exists only on this machine, outgrows Lambda's environment, or names a
 *   parameter or secret the functions' role may not read (lib/config/deploy-check.ts);
 *   `package` ships the files the configuration names by relative path
 *   (SKIFF_CONFIG_FILE, caFile) in every function's package.
 * - The SSM client is bundled only when a function names a configuration parameter.
 * - Each command builds in a folder of its own (`.esbuild/<command>-<pid>`), so a
 *   `serverless package` never deletes the bundles a running `serverless offline` serves.
 * - `invoke local` gets a CommonJS entry next to each ESM bundle: the framework loads
 *   handlers with require() and looks for `.js` and `.cjs`, never `.mjs`.
 */
export default class SkiffDeployPlugin {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options;
    this.serviceDir = serverless.serviceDir ?? serverless.config.serviceDir;
    this.separateBuildFolder();
    this.leaveOutUnusedClients();
    this.hooks = {
      'before:package:initialize': () => this.checkConfiguration(),
      // `deploy function` updates a function's code and environment without `package`.
      'before:deploy:function:initialize': () => this.checkConfiguration(),
      'before:package:finalize': () => this.checkTemplate(),
      'before:invoke:local:invoke': () => this.writeInvokeLocalEntry(),
    };
  }

  /** Points serverless-esbuild at `.esbuild/<command>-<pid>`, removed when this process exits. */
  separateBuildFolder() {
    const esbuild = (this.serverless.service.custom ??= {}).esbuild ??= {};
    const command = (this.serverless.processedInput?.commands ?? []).join('-') || 'serverless';
    const root = join(this.serviceDir, '.esbuild');
    removeFoldersOfEndedProcesses(root);
    esbuild.outputWorkFolder = posix.join('.esbuild', `${command}-${process.pid}`);
    this.workFolder = join(this.serviceDir, esbuild.outputWorkFolder);
    this.buildFolder = join(this.workFolder, esbuild.outputBuildFolder ?? '.build');
    process.once('exit', () => rmSync(this.workFolder, { recursive: true, force: true }));
  }

  /**
   * The SSM client adds about 230 KB to every bundle: left out (lib/config/remote-source.ts)
   * when no function names a configuration parameter.
   */
  leaveOutUnusedClients() {
    const { service } = this.serverless;
    const named = [service.provider.environment, ...Object.values(service.functions ?? {}).map((fn) => fn?.environment)]
      .some((env) => typeof env?.SKIFF_CONFIG_PARAMETER === 'string' && env.SKIFF_CONFIG_PARAMETER !== '');
    const esbuild = service.custom.esbuild;
    esbuild.define = { ...esbuild.define, 'process.env.SKIFF_BUILD_WITHOUT_SSM': JSON.stringify(named ? 'false' : 'true') };
  }

  async checks() {
    // The checks are Skiff's own TypeScript (the configuration schema), loaded with tsx.
    const { tsImport } = await import('tsx/esm/api');
    return tsImport('../lib/config/deploy-check.ts', import.meta.url);
  }

  async checkConfiguration() {
    const { checkDeployment } = await this.checks();
    const { service } = this.serverless;
    splitResourceLists(service.provider.iam?.role?.statements ?? []);
    const environments = {};
    for (const name of service.getAllFunctions()) {
      environments[name] = stringValues({ ...service.provider.environment, ...service.getFunction(name).environment });
    }
    const statements = service.provider.iam?.role?.statements ?? [];
    const { problems, filesToShip } = checkDeployment({
      environments,
      readableParameters: resourcesAllowing(statements, 'ssm:GetParameter'),
      readableSecrets: resourcesAllowing(statements, 'secretsmanager:GetSecretValue'),
      readServiceFile: (path) => {
        const file = join(this.serviceDir, path);
        return existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8') : undefined;
      },
      existsLocally: (path) => existsSync(path),
    });
    if (problems.length > 0) this.refuse(problems);
    if (filesToShip.length > 0) {
      service.package.patterns = [...new Set([...(service.package.patterns ?? []), ...filesToShip])];
    }
  }

  async checkTemplate() {
    const { templateSecretPaths } = await this.checks();
    const paths = templateSecretPaths(this.serverless.service.provider.compiledCloudFormationTemplate);
    if (paths.length > 0) {
      this.refuse(paths.map((path) => `${path} holds what looks like a secret (a token, key or kubeconfig); reference it from Secrets Manager instead`));
    }
  }

  refuse(problems) {
    throw new this.serverless.classes.Error(
      `Skiff will not package this configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }

  writeInvokeLocalEntry() {
    // The handler runs in the build folder: a configuration file named by relative path goes there too.
    const file = this.serverless.service.provider.environment?.SKIFF_CONFIG_FILE;
    if (typeof file === 'string' && file && !isAbsolute(file) && existsSync(join(this.serviceDir, file))) {
      const { service } = this.serverless;
      service.package.patterns = [...new Set([...(service.package.patterns ?? []), file])];
    }
    const fn = this.serverless.service.getFunction(this.options.function);
    const handler = fn?.handler;
    if (!handler) return;
    const extension = this.serverless.service.custom.esbuild.outputFileExtension ?? '.js';
    const module = handler.slice(0, handler.lastIndexOf('.'));
    const exported = handler.slice(handler.lastIndexOf('.') + 1);
    const entry = join(this.buildFolder, `${module}.cjs`);
    mkdirSync(dirname(entry), { recursive: true });
    const bundle = `./${posix.basename(module)}${extension}`;
    writeFileSync(
      entry,
      `exports[${JSON.stringify(exported)}] = async (event, context) => (await import(${JSON.stringify(bundle)}))[${JSON.stringify(exported)}](event, context);\n`,
    );
  }
}

/** Environment values as the template holds them; CloudFormation functions (objects) are left out. */
function stringValues(env) {
  return Object.fromEntries(
    Object.entries(env ?? {})
      .filter(([, value]) => ['string', 'number', 'boolean'].includes(typeof value))
      .map(([name, value]) => [name, String(value)]),
  );
}

/**
 * `--param` values are strings: a comma-separated list of ARNs (`--param
 * bucketArns=arn:aws:s3:::b,arn:aws:s3:::b/*`) becomes a list of resources. ARNs of
 * buckets, parameters and secrets never hold a comma.
 */
function splitResourceLists(statements) {
  for (const statement of statements) {
    if (typeof statement.Resource === 'string' && statement.Resource.includes(',')) {
      statement.Resource = statement.Resource.split(',').map((arn) => arn.trim()).filter(Boolean);
    }
  }
}

/** The string resources of the Allow statements that grant `action` (or a wildcard of it). */
function resourcesAllowing(statements, action) {
  const [service] = action.split(':');
  return statements
    .filter((s) => s.Effect === 'Allow')
    .filter((s) => [s.Action].flat().some((a) => a === action || a === '*' || a === `${service}:*`))
    .flatMap((s) => [s.Resource].flat())
    .filter((resource) => typeof resource === 'string');
}

/** Build folders `<command>-<pid>` whose process has ended (killed before it could clean up). */
function removeFoldersOfEndedProcesses(root) {
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    if (pid && !alive(pid)) rmSync(join(root, name), { recursive: true, force: true });
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}
