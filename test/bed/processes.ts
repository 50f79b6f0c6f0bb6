import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from './runs';
import { signalGroup } from './runs';
import { waitFor } from './wait';

/** One program of the bed, running in its own process group with its output in a log file. */
export interface Component {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Why the component is not running any more, or undefined while it runs. */
  exitReason(): string | undefined;
  readonly exited: Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  cwd?: string;
}

export function tailLog(logFile: string, lines = 40): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The error for a component that failed to start: where its log is and how it ends. */
export class ComponentError extends Error {
  override name = 'ComponentError';

  constructor(component: Component, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `${component.name} failed to start: ${reason}\n` +
        `log: ${component.logFile}\n` +
        `--- last lines of the log ---\n${tailLog(component.logFile)}\n---`,
    );
  }
}

/**
 * Waits for a component to be ready, failing early (with the end of its log) when
 * it exits, and with the same detail when it does not get ready in time.
 */
export async function awaitReady<T>(
  component: Component,
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
): Promise<T> {
  try {
    return await waitFor(check, { what, timeoutMs, giveUpIf: () => component.exitReason() });
  } catch (error) {
    throw new ComponentError(component, error);
  }
}

/** Waits until a line of the component's log matches `pattern`. */
export function awaitLogLine(component: Component, pattern: RegExp, timeoutMs: number): Promise<true> {
  return awaitReady(
    component,
    `log line ${pattern}`,
    () => pattern.test(readFileSync(component.logFile, 'utf8')) || undefined,
    timeoutMs,
  );
}

/**
 * Starts and stops the bed's programs. Each one runs in its own process group
 * (so it and any children can be signalled together, and a Ctrl-C meant for the
 * test runner does not reach it half-way) and is listed in the run record, so a
 * later run can clean up if this process dies without stopping them.
 */
export class Supervisor {
  private readonly components: Component[] = [];
  /** How each component was started, so a fault test can start it again after killing it. */
  private readonly commands = new Map<string, { command: string; args: string[]; options: StartOptions }>();
  private closed = false;

  constructor(
    private readonly run: RunRecord,
    private readonly logDir: string,
  ) {}

  start(name: string, command: string, args: string[], options: StartOptions = {}): Component {
    if (this.closed) throw new Error(`not starting ${name}: the bed is stopping`);
    this.commands.set(name, { command, args, options });
    const logFile = join(this.logDir, `${name.replaceAll('/', '-')}.log`);
    const out = openSync(logFile, 'a');
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    // Not waiting for children keeps this process free to exit; the exit hooks and
    // the watchdog take care of them.
    child.unref();
    let reason: string | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        reason = `could not run ${command}: ${error.message}`;
        resolve();
      });
      child.once('exit', (code, signal) => {
        reason = signal ? `exited on ${signal}` : `exited with code ${code}`;
        resolve();
      });
    });
    if (child.pid === undefined) {
      throw new Error(`could not start ${name} (${command}); see ${logFile}`);
    }
    this.run.add(name, child.pid);
    const component: Component = { name, pid: child.pid, logFile, exitReason: () => reason, exited };
    this.components.push(component);
    return component;
  }

  /**
   * SIGKILLs the process group of component `name`, as a crash would, and resolves once
   * it has exited. Only for fault tests: its data stays where it was.
   */
  async kill(name: string): Promise<void> {
    const component = this.components.findLast((c) => c.name === name);
    if (!component) throw new Error(`the bed has no component ${name}`);
    if (component.exitReason() !== undefined) return;
    try {
      process.kill(-component.pid, 'SIGKILL');
    } catch {
      // Gone in the meantime.
    }
    await component.exited;
  }

  /** Starts a killed component again with the command line, environment and log file it had. */
  startAgain(name: string): Component {
    const spec = this.commands.get(name);
    if (!spec) throw new Error(`the bed has no component ${name}`);
    const running = this.components.findLast((c) => c.name === name);
    if (running && running.exitReason() === undefined) throw new Error(`${name} is still running; kill it first`);
    return this.start(name, spec.command, spec.args, spec.options);
  }

  /** Synchronous SIGTERM to every group, for exit paths that cannot wait. */
  killNow(): void {
    this.closed = true;
    for (const p of this.run.processes) signalGroup(p, 'SIGTERM');
  }

  /**
   * Stops every component: SIGTERM, then SIGKILL for what is left after a short
   * grace period. Nothing in the bed holds data worth a long graceful shutdown.
   */
  async stop(): Promise<void> {
    this.closed = true;
    for (const p of this.run.processes) signalGroup(p, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise((resolve) => (timer = setTimeout(resolve, 3_000)));
    await Promise.race([Promise.all(this.components.map((c) => c.exited)), grace]);
    clearTimeout(timer);
    // Also reaches group members that outlived their leader.
    for (const p of this.run.processes) signalGroup(p, 'SIGKILL');
  }
}

const exitSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Makes sure the bed's processes get SIGTERM however this process ends: normal exit,
 * process.exit() (vitest calls it on Ctrl-C without running teardown) or a signal.
 * A signal nobody else handles is re-raised after the kill so the process still
 * ends the way it would have. Returns a function that removes the hooks.
 */
export function killOnExit(supervisor: Supervisor): () => void {
  const onExit = () => supervisor.killNow();
  const onSignal = (signal: NodeJS.Signals) => {
    supervisor.killNow();
    if (process.listenerCount(signal) === 1) {
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    }
  };
  process.on('exit', onExit);
  for (const signal of exitSignals) process.on(signal, onSignal);
  return () => {
    process.removeListener('exit', onExit);
    for (const signal of exitSignals) process.removeListener(signal, onSignal);
  };
}
