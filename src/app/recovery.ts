import type { Logger } from '../observability/logger';
import type { RecordingsService, RecoveryReport } from '../recordings/service';

/** How long after a skipped recording's owner claim would run out recovery looks again. */
const RECOVERY_RECHECK_MARGIN_MS = 250;

/**
 * The one recovery schedule of a process: once at start, then (with Redis, where other
 * workers may die) every `everyMs`, or just after the first skipped recording's owner claim
 * would run out (a worker that died moments ago then gets a true status within one owner
 * TTL, not a period later). `everyMs` 0 or no Redis: only the run at start.
 */
export class RecoverySchedule {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly recordings: RecordingsService,
    private readonly opts: { repeat: boolean; everyMs: number },
    private readonly logger: Logger,
  ) {}

  async runOnce(): Promise<RecoveryReport> {
    const report = await this.recordings.recover();
    if (report.failed.length || report.salvaged.length) this.logger.warn(report, 'recovered recordings of a dead worker');
    return report;
  }

  /** Schedules the next run after `last` (the report of the run just done). */
  scheduleAfter(last: RecoveryReport | undefined): void {
    if (!this.opts.repeat || this.opts.everyMs <= 0 || this.stopped) return;
    const soon = last?.recheckInMs === undefined ? Infinity : last.recheckInMs + RECOVERY_RECHECK_MARGIN_MS;
    this.timer = setTimeout(() => {
      void this.runOnce()
        .catch((err: unknown) => {
          this.logger.error({ err }, 'recovery failed');
          return undefined;
        })
        .then((report) => this.scheduleAfter(report));
    }, Math.min(this.opts.everyMs, soon));
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
