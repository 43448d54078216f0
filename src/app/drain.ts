import type { Logger } from '../observability/logger';
import type { RecordingEventBus } from '../recordings/events';
import type { RecordingRepository } from '../recordings/repository';
import { TERMINAL_STATUSES } from '../recordings/status';

/**
 * The recordings this process ran, until their post-processing ends: shutdown waits for them
 * (bounded) so a stopped recording is COMPLETED, not left PROCESSING under a lease. One whose
 * attempt failed and that waits for a later one (disk full, storage down) is not waited for:
 * nothing runs for it here, and whichever worker polls after its retry time resumes it.
 */
export class PostprocessDrain {
  private readonly mine = new Set<string>();
  private readonly drained: (() => void)[] = [];
  /** Seen waiting for a later attempt at the last look. */
  private readonly waitingSeen = new Set<string>();

  constructor(
    bus: RecordingEventBus,
    isMine: (recordingId: string) => boolean,
    private readonly repo: RecordingRepository,
    /** Whether a post-processing attempt for the recording runs in this process now. */
    private readonly runsHere: (recordingId: string) => boolean,
    private readonly logger: Logger,
  ) {
    bus.on('recordingStarted', (p) => {
      if (isMine(p.recordingId)) this.mine.add(p.recordingId);
    });
    for (const ev of ['recordingCompleted', 'recordingFailed', 'recordingDeleted'] as const) bus.on(ev, (p) => this.settle(p.recordingId));
  }

  /** Waits until every recording of this process has ended, or `ms` have passed. */
  async wait(ms: number): Promise<void> {
    await this.settleEnded();
    if (this.mine.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => void this.settleEnded(), 2000);
    await Promise.race([
      new Promise<void>((r) => this.drained.push(r)),
      new Promise<void>((r) => (timer = setTimeout(r, ms))),
    ]);
    clearTimeout(timer);
    clearInterval(poll);
    if (this.mine.size) this.logger.warn({ recordings: [...this.mine] }, 'post-processing still running at shutdown: another worker resumes it when its lease ends');
  }

  private settle(id: string): void {
    this.waitingSeen.delete(id);
    if (this.mine.delete(id) && this.mine.size === 0) for (const r of this.drained.splice(0)) r();
  }

  // one that another process ended (its recovery, a retry elsewhere) sends no event here: its row says so
  private async settleEnded(): Promise<void> {
    for (const id of [...this.mine]) {
      const rec = await this.repo.getRecording(id).catch(() => undefined);
      if (rec === null || (rec && (TERMINAL_STATUSES as readonly string[]).includes(rec.status))) {
        this.settle(id);
        continue;
      }
      // post-processing with no attempt running here, at two looks in a row (an attempt that
      // just ended writes its outcome a moment after it stops running): it waits for a retry
      const waiting = rec !== undefined && (rec.status === 'PROCESSING' || rec.status === 'UPLOADING') && !this.runsHere(id);
      if (!waiting) this.waitingSeen.delete(id);
      else if (this.waitingSeen.has(id)) {
        this.logger.info({ recordingId: id }, 'post-processing waits for a retry: not waited for at shutdown');
        this.settle(id);
      }
      else this.waitingSeen.add(id);
    }
  }
}
