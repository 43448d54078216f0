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
  /** CPU seconds the loops took: said by each loop that ended by itself, read of each killed one. */
  cpuSeconds = 0;

  constructor(private readonly count: number, private readonly sessionNice = -8) {}

  /**
   * Each loop ends by itself after `forMs`: the caller's own timers are late on the machine the
   * hog saturates (a CI run's 6 s hog ran 9 s, past the recorder's stall limit), and a hog in a
   * session of its own outlives a killed caller.
   */
  start(forMs = 20000): void {
    const loop = `const end = Date.now() + ${Math.round(forMs)}; while (Date.now() < end) {} const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1e6));`;
    for (let i = 0; i < this.count; i++) {
      const hog = spawn(process.execPath, ['-e', loop], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
      hog.stdout!.on('data', (d: Buffer) => (this.cpuSeconds += Number(d.toString()) || 0));
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
