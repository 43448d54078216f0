import type { PageMessage } from '../../recorder-page/src/protocol';
import type { RecordingRequest } from '../recordings/contract';
import type { IngestHandler } from './ingest-server';
import type { Logger } from './logger';
import { storesSpool, type SpoolStore } from './stored-spool';
import { StoredTracks } from './stored-tracks';
import { TimelineLog } from './timeline-log';
import { TrackSpools } from './track-spools';

/**
 * What a live recording writes beside its spool, each only when the recording has it: the
 * page's speaker and chat events (none for a custom layout page: it does not report them)
 * and the participants' own tracks (the `tracks` option).
 */
export class SessionSideFiles {
  private constructor(
    private readonly timeline?: TimelineLog,
    private readonly tracks?: TrackSpools,
  ) {}

  /** `store`: where the spool is stored as it comes (S3 or GCS), the tracks' spools too. */
  static async open(spoolDir: string, req: RecordingRequest, log: Logger, store?: SpoolStore): Promise<SessionSideFiles> {
    const timeline = req.options.customLayoutUrl ? undefined : await TimelineLog.open(spoolDir, req.id, log);
    const callId = req.callId;
    const stored = storesSpool(store) && callId ? (dir: string) => new StoredTracks(store, { callId, recordingId: req.id }, dir, log) : undefined;
    try {
      const tracks = req.options.tracks ? await TrackSpools.open(spoolDir, req.id, log, stored) : undefined;
      return new SessionSideFiles(timeline, tracks);
    } catch (err) {
      await timeline?.discard();
      throw err;
    }
  }

  /** The ingest handler of one participant track's socket; undefined without tracks. */
  trackHandler(key: string): IngestHandler | undefined {
    return this.tracks?.handler(key);
  }

  /** Writes `msg` if it is a timeline event of the page (true); false for any other message. */
  append(msg: PageMessage): boolean {
    return this.timeline?.append(msg) ?? false;
  }

  async close(): Promise<void> {
    await Promise.all([this.timeline?.close(), this.tracks?.close()]);
  }

  /** A start that never recorded: its side files go with its spool. */
  async discard(): Promise<void> {
    await Promise.all([this.timeline?.discard(), this.tracks?.discard()]);
  }
}
