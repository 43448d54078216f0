import fs from 'node:fs';

/**
 * A process named so that a reused pid is not mistaken for it: its pid and its start time
 * (clock ticks since boot, /proc/<pid>/stat field 22). Lock files and browser records store
 * one, and a later process asks whether that very process still runs.
 */
export interface ProcessIdentity {
  pid: number;
  /** Absent where /proc is not there: then only the pid is compared. */
  startTicks?: number;
}

export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces and parentheses); starttime is the 22nd field
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

export function selfIdentity(): ProcessIdentity {
  const startTicks = processStartTicks(process.pid);
  return startTicks === undefined ? { pid: process.pid } : { pid: process.pid, startTicks };
}

/** Whether the process `id` names still runs (a zombie counts as gone). */
export function isRunning(id: ProcessIdentity): boolean {
  try {
    process.kill(id.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (processState(id.pid) === 'Z') return false;
  if (id.startTicks === undefined) return true;
  const now = processStartTicks(id.pid);
  return now === undefined || now === id.startTicks;
}

function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` runs with `arg` as one of its arguments. A process that set its title
 * (Chromium's helpers do) has one space-separated string instead of NUL-separated arguments.
 */
export function processHasArg(pid: number, arg: string): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return ` ${cmdline} `.includes(` ${arg} `);
  } catch {
    return false;
  }
}
