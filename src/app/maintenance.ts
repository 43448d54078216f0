import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../observability/logger';
import { cleanupDir } from '../postprocess/retention';
import type { RecordingRepository } from '../recordings/repository';
import type { RecordingsService, RetentionResult } from '../recordings/service';

/**
 * The periodic housekeeping of a service: retention (recordings finished more than
 * `retentionMs` ago are deleted through the domain: objects removed, status DELETED) and
 * stale spool/temp files (older than `staleMs`, belonging to no live or post-processing recording).
 */
export interface MaintenanceOptions {
  retentionMs: number;
  spoolDir: string;
  /** Default one day. */
  staleMs?: number;
  /** 0 disables the timer (runOnce() still works). */
  intervalMs: number;
}

export interface MaintenanceReport {
  retention: RetentionResult;
  removedFiles: string[];
}

export class Maintenance {
  private timer?: NodeJS.Timeout;
  private running?: Promise<MaintenanceReport>;

  constructor(
    private readonly recordings: RecordingsService,
    private readonly repo: RecordingRepository,
    private readonly opts: MaintenanceOptions,
    private readonly logger?: Logger,
  ) {}

  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      void this.runOnce().catch((err) => this.logger?.error({ err }, 'maintenance failed'));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  runOnce(now = new Date()): Promise<MaintenanceReport> {
    this.running ??= this.run(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(now: Date): Promise<MaintenanceReport> {
    const retention = await this.recordings.deleteExpired(this.opts.retentionMs, now);
    if (retention.deleted.length || retention.failed.length) this.logger?.info(retention, 'retention');
    const removedFiles = await this.cleanSpool(now.getTime());
    if (removedFiles.length) this.logger?.info({ removed: removedFiles.length }, 'stale spool files removed');
    return { retention, removedFiles };
  }

  private async cleanSpool(now: number): Promise<string[]> {
    const staleMs = this.opts.staleMs ?? 86_400_000;
    const live = await this.repo.liveIds();
    const keepIn = async (dir: string, extra: string[] = []) => {
      const names = await fsp.readdir(dir).catch(() => [] as string[]);
      return [...names.filter((n) => live.some((id) => n.startsWith(id))).map((n) => path.join(dir, n)), ...extra];
    };
    const spool = this.opts.spoolDir;
    const work = path.join(spool, 'postprocess');
    const removed = await cleanupDir(work, staleMs, { keep: await keepIn(work), now });
    removed.push(...(await cleanupDir(spool, staleMs, { keep: await keepIn(spool, [work]), now })));
    return removed;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
