import fs from 'node:fs';
import type { Logger } from './logger';

/**
 * Linux shares the CPU between sessions (autogroups) before it shares it between their
 * threads, and every Chromium, publisher browser or storage emulator on the machine is a
 * session of its own: on a saturated machine the worker, one session among a dozen, waited
 * 1 to 2.4 s at a time for a core while chunks waited to be acknowledged and stored, and a
 * killed worker's recordings lost 3.3 to 6.8 s (many-workers e2e). The worker moves bytes
 * and uses little CPU, so its session is weighted up (nice -8 weighs as 7.4 sessions); its
 * post-processing runs in sessions of its own (postprocess/child.ts) and does not share it.
 * Each recorder browser is a session of its own too (browser-launch.ts), weighted the same:
 * it is the recording, and a starved one froze its picture for 0.3 s and dropped frames.
 * Only root (CAP_SYS_NICE) may raise a weight: elsewhere the session stays as it was, and this
 * says so (a warning) and returns false, so that a caller weighting many stops trying.
 */
export function weightSession(nice: number, logger: Logger, pid: number | 'self' = 'self'): boolean {
  if (nice === 0) return true;
  try {
    fs.writeFileSync(`/proc/${pid}/autogroup`, String(nice));
    logger.info({ nice, pid }, 'session weighted: not starved by other programs on a saturated machine');
    return true;
  } catch (err) {
    logger.warn({ nice, pid, error: (err as Error).message }, 'could not weight a session (needs CAP_SYS_NICE and a kernel with autogroups): on a saturated machine it may wait for a core');
    return false;
  }
}
