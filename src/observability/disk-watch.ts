import type { AppError } from '../errors';
import { checkFreeSpace } from '../postprocess/disk';

/**
 * Whether a worker's disks (its output and spool directories) have the free space a new
 * recording needs, checked every few seconds so that admission, the worker's record in Redis
 * and its readiness can ask without waiting on the file system. A worker short of disk takes
 * no recording (dispatch sends it elsewhere), whichever process took the request.
 */
export class DiskWatch {
  private timer?: NodeJS.Timeout;
  private short?: AppError;

  constructor(
    private readonly dirs: string[],
    private readonly minFreeMb: number,
    private readonly everyMs = 5000,
  ) {}

  async start(): Promise<this> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.everyMs);
    this.timer.unref();
    return this;
  }

  /** Why no recording can start here now (DISK_FULL's message), or undefined. */
  shortage(): string | undefined {
    return this.short?.message;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    let short: AppError | undefined;
    for (const dir of new Set(this.dirs)) {
      try {
        await checkFreeSpace(dir, this.minFreeMb);
      } catch (err) {
        // a directory that cannot be measured is not a full disk: the write itself will tell
        if ((err as AppError).code === 'DISK_FULL') short ??= err as AppError;
      }
    }
    this.short = short;
  }
}
