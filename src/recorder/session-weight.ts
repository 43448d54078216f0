import fs from 'node:fs';
import type { Logger } from '../observability/logger';

/**
 * Linux shares the CPU between sessions (autogroups) before it shares it between their
 * threads, and every Chromium, publisher browser or storage emulator on the machine is a
 * session of its own: on a saturated machine the worker, one session among a dozen, waited
 * 1 to 2.4 s at a time for a core while chunks waited to be acknowledged and stored, and a
 * killed worker's recordings lost 3.3 to 6.8 s (many-workers e2e). The worker moves bytes
 * and uses little CPU, so its session is weighted up (nice -8 weighs as 7.4 sessions); its
 * post-processing runs in sessions of its own (postprocess/child.ts) and does not share it.
 * Only root (CAP_SYS_NICE) may raise a weight: elsewhere the session stays as it was.
 */
export function weightSession(nice: number, logger: Logger): void {
  if (nice === 0) return;
  try {
    fs.writeFileSync('/proc/self/autogroup', String(nice));
    logger.info({ nice }, 'session weighted: this process is not starved by other programs on a saturated machine');
  } catch (err) {
    logger.warn({ nice, error: (err as Error).message }, 'could not weight this session (needs CAP_SYS_NICE and a kernel with autogroups): on a saturated machine its chunks may wait for a core');
  }
}
