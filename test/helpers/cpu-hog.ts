import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/**
 * A CPU hog: busy loops, each in a session of its own with that session's weight raised. The
 * kernel's autogroup scheduling shares the CPU between sessions before threads, and the
 * recorder's Chromium is a session of its own: loops started in this one (even 24, even at
 * nice -20) only took this process's share and left the file at 30 fps, and loops in sessions
 * of their own at the normal weight starved it on some runs and not on others.
 * The sessions' nice (/proc/<pid>/autogroup): -8 weighs 7.4 normal sessions. Measured with
 * two loops for 8 s: -6 and -7 left the file at 20 to 30 fps (some runs the page kept its rate:
 * its frame clock catches up what it owes), -8 at 12 to 18 fps with a 9 s gap between chunks.
 */
export class CpuHog {
  private readonly loops: ChildProcess[] = [];
  /** CPU seconds the loops took (read before they are killed). */
  cpuSeconds = 0;

  constructor(private readonly count: number, private readonly sessionNice = -8) {}

  start(): void {
    // each loop ends by itself after 20 s too: a hog in a session of its own outlives a killed caller
    const loop = `const end = Date.now() + 20000; while (Date.now() < end) {}`;
    for (let i = 0; i < this.count; i++) {
      const hog = spawn(process.execPath, ['-e', loop], { stdio: 'ignore', detached: true });
      this.loops.push(hog);
      try {
        fs.writeFileSync(`/proc/${hog.pid}/autogroup`, String(this.sessionNice));
      } catch {
        // only root may raise it: the loop then weighs as one session
      }
    }
  }

  stop(): void {
    for (const h of this.loops.splice(0)) {
      if (h.pid === undefined || h.exitCode !== null) continue;
      try {
        const fields = fs.readFileSync(`/proc/${h.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        this.cpuSeconds += (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        // gone already
      }
      process.kill(h.pid, 'SIGKILL');
    }
  }
}
