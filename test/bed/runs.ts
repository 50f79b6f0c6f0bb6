import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runsDir, workRoot } from './paths';

/**
 * Bookkeeping of running beds, so nothing outlives its run. Each bed writes a run
 * file at a fixed place ($SKIFF_BED_CACHE/run/<owner pid>.json) listing its owner
 * process and the process groups it started. Whoever finds the file of a bed whose
 * owner is gone (a crashed or killed run) kills what it lists. Process ids are
 * recorded with their start time, so a reused pid is never killed by mistake.
 */

interface ProcessId {
  pid: number;
  /** Start time in clock ticks since boot, /proc/<pid>/stat field 22. */
  startTime: string;
}

interface RecordedProcess extends ProcessId {
  name: string;
}

interface RunFile {
  owner: ProcessId;
  workDir: string;
  processes: RecordedProcess[];
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after
    // it are counted from the last ')'. Field 22 is the 20th after that.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isAlive(id: ProcessId): boolean {
  return startTimeOf(id.pid) === id.startTime;
}

/**
 * Whether the process group led by a recorded process still exists. Its members
 * may outlive the leader, and Linux hands out no pid that is still some group's id:
 * while the group lives, its id is either free or still the leader's. A pid now
 * held by another process therefore means our group is gone.
 */
function groupExists(id: ProcessId): boolean {
  const current = startTimeOf(id.pid);
  if (current !== undefined && current !== id.startTime) return false;
  try {
    process.kill(-id.pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function signalGroup(id: ProcessId, signal: NodeJS.Signals): void {
  if (!groupExists(id)) return;
  try {
    process.kill(-id.pid, signal);
  } catch {
    // Gone in the meantime.
  }
}

function readRunFile(path: string): RunFile | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunFile;
  } catch {
    return undefined;
  }
}

function runFiles(): string[] {
  try {
    return readdirSync(runsDir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => join(runsDir, name));
  } catch {
    return [];
  }
}

/**
 * The run file of the bed started by this process; with a `tag`, the run file of
 * other programs this process starts beside the bed (e.g. a Velero server a test
 * starts), `<pid>-<tag>.json`, cleaned up the same way.
 */
export class RunRecord {
  readonly path: string;
  private readonly file: RunFile;

  constructor(workDir: string, tag?: string) {
    mkdirSync(runsDir, { recursive: true });
    const owner = { pid: process.pid, startTime: startTimeOf(process.pid) ?? '' };
    this.path = join(runsDir, tag ? `${process.pid}-${tag}.json` : `${process.pid}.json`);
    this.file = { owner, workDir, processes: [] };
    this.save();
  }

  add(name: string, pid: number): void {
    this.file.processes.push({ name, pid, startTime: startTimeOf(pid) ?? '' });
    this.save();
  }

  get processes(): readonly RecordedProcess[] {
    return this.file.processes;
  }

  /** Called once everything listed is stopped: the bed ended cleanly. */
  remove(): void {
    rmSync(this.path, { force: true });
  }

  private save(): void {
    // Written whole and renamed, so a concurrent reader never sees half a file.
    writeFileSync(`${this.path}.tmp`, JSON.stringify(this.file));
    renameSync(`${this.path}.tmp`, this.path);
  }
}

/**
 * Stops every process group a run file lists: SIGTERM, then SIGKILL for whatever
 * is still there after the grace period. Removes the run file when done.
 */
export async function terminateRun(runFilePath: string, graceMs: number): Promise<number> {
  const run = readRunFile(runFilePath);
  if (!run) return 0;
  const live = run.processes.filter(groupExists);
  for (const p of live) signalGroup(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (live.some(groupExists) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const p of live) signalGroup(p, 'SIGKILL');
  rmSync(runFilePath, { force: true });
  return live.length;
}

/** Whether the run file's owner is still running (false once the file is gone). */
export function ownerAlive(runFilePath: string): boolean {
  const run = readRunFile(runFilePath);
  return run !== undefined && isAlive(run.owner);
}

/** Kills what crashed earlier runs left behind. Returns how many process groups it stopped. */
export async function reapLeftovers(): Promise<number> {
  let stopped = 0;
  for (const path of runFiles()) {
    if (!ownerAlive(path)) stopped += await terminateRun(path, 2_000);
  }
  return stopped;
}

/** Beds whose owner is still running, as owner pid and work dir. */
export function liveBeds(): { ownerPid: number; workDir: string }[] {
  return runFiles().flatMap((path) => {
    const run = readRunFile(path);
    return run && isAlive(run.owner) ? [{ ownerPid: run.owner.pid, workDir: run.workDir }] : [];
  });
}

/**
 * Deletes the work dirs of finished runs. The newest few keep their logs (only
 * the logs) for looking into a failed run afterwards.
 */
export function pruneWorkDirs(keepFinished: number): void {
  const inUse = new Set(runFiles().flatMap((path) => readRunFile(path)?.workDir ?? []));
  let entries: string[];
  try {
    entries = readdirSync(workRoot);
  } catch {
    return;
  }
  const finished = entries
    .map((name) => join(workRoot, name))
    .filter((dir) => !inUse.has(dir))
    .flatMap((dir) => {
      try {
        const stat = statSync(dir);
        return stat.isDirectory() ? [{ dir, mtime: stat.mtimeMs }] : [];
      } catch {
        return [];
      }
    })
    .sort((a, b) => b.mtime - a.mtime);
  finished.forEach(({ dir }, i) => {
    if (i < keepFinished) keepOnlyLogs(dir);
    else rmSync(dir, { recursive: true, force: true });
  });
}

/** Deletes a run's data, certificates and credentials, keeping its logs. */
export function keepOnlyLogs(workDir: string): void {
  for (const entry of readdirSync(workDir)) {
    if (entry !== 'logs') rmSync(join(workDir, entry), { recursive: true, force: true });
  }
}
