/**
 * The ingest wire format, shared by the page and the worker (kept free of DOM and Node
 * types so both compile it). Binary frames: an 8-byte header then the MediaRecorder bytes.
 *   bytes 0-3  sequence number, uint32 big-endian, from 0 without gaps
 *   byte  4    flags (FLAG_LAST on the final chunk)
 *   bytes 5-7  reserved, 0
 * Text frames: JSON control messages below.
 */
export const CHUNK_HEADER_BYTES = 8;
export const FLAG_LAST = 1;

export function chunkHeader(seq: number, flags: number): Uint8Array<ArrayBuffer> {
  const header = new Uint8Array(CHUNK_HEADER_BYTES);
  new DataView(header.buffer).setUint32(0, seq >>> 0, false);
  header[4] = flags;
  return header;
}

export interface DecodedChunk {
  seq: number;
  flags: number;
  payload: Uint8Array;
}

export function decodeChunk(frame: Uint8Array): DecodedChunk {
  if (frame.byteLength < CHUNK_HEADER_BYTES) throw new Error(`chunk frame too short: ${frame.byteLength} bytes`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return { seq: view.getUint32(0, false), flags: frame[4], payload: frame.subarray(CHUNK_HEADER_BYTES) };
}

/** One subscribed video as the page receives it: the tile it fills and the picture the SFU sends for it. */
export interface VideoInput {
  identity: string;
  source: 'camera' | 'screen';
  /** The size asked of the SFU (the tile's), 0 when the video has no tile. */
  tileWidth: number;
  tileHeight: number;
  /** The decoded picture, which follows the simulcast layer received. */
  width: number;
  height: number;
}

/**
 * One participant's receive-side delays over the last second (receive-stats.ts): `audioMs` the
 * jitter buffer's, `videoMs` the jitter buffer's and decoding's.
 */
export interface AvReceiveSample {
  identity: string;
  audioMs: number;
  videoMs: number;
}

/**
 * One participant's sound over the last second that WebRTC made up because its packets came
 * late or not at all (inbound-rtp concealedSamples less silentConcealedSamples): a hole the
 * file's listener hears.
 */
export interface SoundReceiveSample {
  identity: string;
  concealedMs: number;
}

/** A participant as the timeline names them. */
export interface SpeakerRef {
  identity: string;
  name: string;
}

/** How much of one data message the page relays, and how long a name or identity may be (the worker cuts longer ones too). */
export const TIMELINE_LIMITS = { textBytes: 4096, name: 256, speakers: 64 } as const;

/**
 * The page's timeline events (timeline-events.ts), wall clock like 'started'. `speakers`: LiveKit
 * named a new set of active speakers at `at` (recorded participants only). The server decides on
 * 400 ms windows, so the page's own meter dates each change: `since`, when it heard someone who
 * starts speaking in this change begin; `ended`, when it last heard those who stopped.
 * `chat`: a data message on a topic the start asked for (text cut to TIMELINE_LIMITS.textBytes).
 */
export type TimelineMessage =
  | { type: 'speakers'; at: number; speakers: (SpeakerRef & { since?: number })[]; ended?: { identity: string; at: number }[] }
  | { type: 'chat'; at: number; identity: string; name: string; topic: string; text: string; truncated?: boolean };

export type PageMessage =
  | TimelineMessage
  | { type: 'hello'; mimeType: string; width: number; height: number; fps: number }
  /**
   * `maxFrameGapMs`: the longest wait between two drawn frames since the last stats. Since the
   * encoder started: `framesDropped`, frames the encoder's track had no room for; `framesLate`,
   * frames drawn a whole frame period or more after their turn (the page was busy: the picture
   * held, then the frames came bunched). `av`: each recorded participant's receive-side delays;
   * `sound`: each recorded participant's concealed sound.
   */
  | {
      type: 'stats';
      fps: number;
      participants: number;
      frames: number;
      audioInputs: number;
      videoInputs?: VideoInput[];
      maxFrameGapMs?: number;
      framesDropped?: number;
      framesLate?: number;
      av?: AvReceiveSample[];
      sound?: SoundReceiveSample[];
    }
  /** A recorded participant came (`present`) or went, at `at` (ms since the epoch). */
  | { type: 'presence'; identity: string; name: string; present: boolean; at: number }
  | { type: 'end'; lastSeq: number }
  | { type: 'joined'; participants: number; marks?: Record<string, number> }
  /**
   * The encoder started: `at` (ms since the epoch) is the file's time 0. `expected` were
   * present at the join; `late` were not yet on the canvas after waiting `waitedMs`.
   */
  | { type: 'started'; at: number; expected: string[]; late: string[]; waitedMs: number; marks?: Record<string, number> }
  | { type: 'firstVideo'; identity: string; at?: number }
  /**
   * On a track's own ingest socket (`&track=<n>`), first on every connection: whose track it is
   * and when its MediaRecorder started: `at` (ms since the epoch, the clock of 'started') and
   * `fileMs`, that instant on the composite's file clock (the page's own pauses taken out).
   */
  | { type: 'track'; identity: string; name: string; media: 'audio' | 'video'; source: string; mimeType: string; at: number; fileMs: number }
  | { type: 'disconnected'; reason: string }
  | { type: 'error'; message: string };

export type ServerMessage = { type: 'ack'; seq: number };
