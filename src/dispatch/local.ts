import { AppError } from '../errors';
import type { RecordingEndReason, RecordingOptions } from '../recordings/contract';
import type { DispatchPort, RecordingJob } from '../recordings/ports';
import type { RecordingRunner } from '../recordings/runner';

/** Dispatch without Redis: this process's runner takes the job if its capacity admits it. */
export class LocalDispatcher implements DispatchPort {
  constructor(private readonly runner: RecordingRunner | undefined) {}

  async dispatch(job: RecordingJob): Promise<void> {
    if (!this.runner) throw new AppError('NO_CAPACITY', 'no recorder runs in this process and no Redis is configured');
    const admitted = this.runner.admits(job);
    if (!admitted.ok) throw new AppError('NO_CAPACITY', `this worker cannot take the recording: ${admitted.reason}`);
    const { accepted } = this.runner.run(job);
    if (!(await accepted)) throw new AppError('CONFLICT', 'the recording was changed before it could start');
  }

  async requestStop(recordingId: string, reason: RecordingEndReason): Promise<void> {
    await this.runner?.stop(recordingId, reason);
  }

  async requestUpdate(recordingId: string, options: RecordingOptions): Promise<void> {
    await this.runner?.update(recordingId, options);
  }

  async requestPause(recordingId: string, paused: boolean): Promise<void> {
    await this.runner?.setPaused(recordingId, paused);
  }

  /** Single process: only this runner can own a recording. */
  async ownerLeaseMs(recordingId: string): Promise<number> {
    return this.runner?.has(recordingId) ? Infinity : 0;
  }

  async close(): Promise<void> {}
}
