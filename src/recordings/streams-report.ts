import type { LiveRecording } from './contract';
import type { RecordingRepository } from './repository';
import type { StreamInfo } from './streams';

/**
 * Writes a live recording's stream states on its row as they change, so the view (built from
 * the row, on any API process) shows them. One write at a time, the latest state winning: a
 * burst of changes is one or two writes, never an older state over a newer. No status guard:
 * the last states (ENDED) land after the recording left RECORDING. Returns the unsubscribe and
 * a promise of the writes still pending.
 */
export function reportStreams(repo: RecordingRepository, recordingId: string, live: LiveRecording, onError: (err: unknown) => void): { stop: () => void; flushed: () => Promise<void> } {
  let next: StreamInfo[] | undefined;
  let writing: Promise<void> = Promise.resolve();
  let busy = false;
  const drain = async () => {
    busy = true;
    while (next) {
      const streams = next;
      next = undefined;
      await repo.updateIf(recordingId, {}, { streams }).catch(onError);
    }
    busy = false;
  };
  const stop =
    live.onStreams?.((streams) => {
      next = streams;
      if (!busy) writing = drain();
    }) ?? (() => undefined);
  return { stop, flushed: () => writing };
}
