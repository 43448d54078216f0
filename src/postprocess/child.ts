import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { AppError } from '../errors';

/**
 * Every ffmpeg process of the post-processor goes through `runOwned`: it is killed
 * (SIGKILL) when the caller's AbortSignal fires or its timeout passes. ffprobe runs through
 * recorder/probe.ts, killed by the same signal.
 */

export interface RunOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called with each complete stdout line (ffmpeg -progress pipe:1). */
  onStdoutLine?: (line: string) => void;
  /** Keep stdout in memory and return it (ffprobe JSON). */
  captureStdout?: boolean;
  /** Called with stdout as it comes, raw (decoded samples). */
  onStdoutData?: (chunk: Buffer) => void;
  /** Runs the process in the background (see toBackground). */
  background?: boolean;
}

/**
 * A long post-processing pass (a call's encode to VP8) takes only the CPU live recordings
 * leave: nice 19 and the SCHED_IDLE policy (util-linux chrt; without it, nice alone), set
 * at once, so the threads it starts inherit them. Beside three live recordings on 2 cores
 * (admission forced open) their lowest frame rate was 28.4 with both, 26.9 with nice alone,
 * 29.8 without the pass. Its time is counted as niced, which admission takes as free.
 */
function toBackground(pid: number): void {
  try {
    os.setPriority(pid, 19);
  } catch {
    return; // exited already: its 'close' comes
  }
  execFile('chrt', ['--all-tasks', '--idle', '-p', '0', String(pid)], () => undefined);
  // its session (see runOwned) weighed as 1/66 of one: nice and SCHED_IDLE rank threads within a session only
  try {
    fs.writeFileSync(`/proc/${pid}/autogroup`, '19');
  } catch {
    // no autogroups here: nice and SCHED_IDLE do it alone
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last 8 KiB of stderr. */
  stderr: string;
}

export function runOwned(bin: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new AppError('JOB_ABORTED', `${bin} not started: aborted`));
      return;
    }
    let child: ChildProcess;
    try {
      // a session of its own: the worker's session is weighted up (recorder/session-weight.ts) for
      // the live recordings' sake, and a post-processing pass must not share that weight
      child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      reject(new AppError('FFMPEG_NOT_FOUND', `cannot run ${bin}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    if (opts.background && child.pid) toBackground(child.pid);
    let stdout = '';
    let stderr = '';
    let partial = '';
    let aborted = false;
    let timedOut = false;
    child.stdout!.on('data', (d: Buffer) => {
      opts.onStdoutData?.(d);
      if (!opts.captureStdout && !opts.onStdoutLine) return;
      const s = d.toString();
      if (opts.captureStdout) stdout += s;
      if (opts.onStdoutLine) {
        partial += s;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) opts.onStdoutLine(l.trim());
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8192);
    });
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const onAbort = () => {
      aborted = true;
      kill();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          kill();
        }, opts.timeoutMs)
      : undefined;
    const finish = () => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      finish();
      if (err.code === 'ENOENT') reject(new AppError('FFMPEG_NOT_FOUND', `${bin} not found (install ffmpeg or set FFMPEG_PATH/FFPROBE_PATH)`, { cause: err }));
      else reject(new AppError('FFMPEG_FAILED', `${bin}: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      finish();
      if (aborted) return reject(new AppError('JOB_ABORTED', `${bin} killed: post-processing aborted`));
      if (timedOut) return reject(new AppError('FFMPEG_FAILED', `${bin} killed after ${opts.timeoutMs} ms`, { details: { stderr } }));
      if (partial && opts.onStdoutLine) opts.onStdoutLine(partial.trim());
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The last meaningful lines of an ffmpeg stderr, for error messages. */
export function stderrTail(stderr: string, lines = 4): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' | ');
}
