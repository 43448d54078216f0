import type { LivekitCredentials } from '../livekit/tokens';
import type { BrowserPool } from './browser-pool';
import type { HlsOutputTarget } from './hls-output';
import type { IngestServer } from './ingest-server';
import type { Logger } from './logger';

/** What a live recording (session.ts) is given by its worker's recorder. */
export interface SessionDeps {
  livekit: LivekitCredentials;
  pool: BrowserPool;
  ingest: IngestServer;
  log: Logger;
  ffmpegPath: string;
  ffprobePath: string;
  spoolDir: string;
  stallSeconds: number;
  /** A pause this long ends the recording ('pause_limit'). */
  maxPauseSeconds: number;
  /** Constant A/V offset of the browser's encoder to cancel at the remux, in ms. */
  audioShiftMs: number;
  /** How long the page waits for the participants present at the join before it starts the encoder. */
  presenceWaitMs: number;
  /** Streams are allowed here (RECORDER_STREAM_ALLOWED), so one may be added to any recording (PATCH). */
  streamsMayBeAdded?: boolean;
  /** From the start until media flows (join and presence wait included). */
  firstChunkTimeoutMs?: number;
  /** Where an HLS output is stored (hls-output.ts). */
  hls?: HlsOutputTarget;
}
