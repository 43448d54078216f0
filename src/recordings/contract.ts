/** The contract of one live recording: what the domain asks of a recorder (options, request) and gets back (start, progress, result). The recorder implements it; the domain owns it. */
import type { VideoInput } from '../../recorder-page/src/protocol';
import type { RecordingOptions, OutputFormat } from './options';
import type { StreamInfo } from './streams';
import type { PausedSpan } from './timeline';

export type { VideoInput };

// The options' rules (limits, defaults, schema) are in options.ts; the layout names in the page's layouts/names.ts.
export type { OutputFormat, RecordingOptions } from './options';
export type { LayoutName } from '../../recorder-page/src/layouts/names';

export interface RecordingRequest {
  /** Unique id, used in file names and the ingest URL. */
  id: string;
  /** The call's id, which names the recording's storage prefix (HLS is stored during the call); absent for the CLI's record. */
  callId?: string;
  roomName: string;
  outputPath: string;
  options: RecordingOptions;
  /** Optional cap; the recording stops by itself after this many seconds. */
  maxDurationSeconds?: number;
  /** When the start was asked for (ms since the epoch), for the start latency in the quality report. */
  requestedAt?: number;
}

/** How a recording began: its time 0, and who was on the canvas from its first frame. */
export interface RecordingStart {
  /** The file's time 0: the instant the encoder started, wall clock. */
  recordingAt: Date;
  /** Participants in the room when the recorder joined. */
  expected: string[];
  /** Those of them not yet on the canvas when the encoder started (the wait is bounded). */
  late: string[];
  /** How long the page waited for them after the join. */
  waitedMs: number;
  /** From the start request to time 0, when the request time is known. */
  sinceRequestMs?: number;
}

/** The figures of a finished recording that say whether it is right (see recordings/quality.ts). */
export interface RecordingQuality {
  /** Frames per second in the file. */
  fps?: number;
  /** The lowest frame rate the page drew over any 2 s after the first 2 s. */
  minDrawnFps?: number;
  start: { sinceRequestMs?: number; waitedMs: number; present: number; late: string[]; allVisibleMs?: number };
  /** The longest wait between two drawn frames after the first 2 s (the picture froze that long). */
  longestFreezeMs?: number;
  /** Each recorded participant on the file's clock: when they came, went, and were first seen. */
  participants?: ParticipantPresence[];
  /** The HLS output, when one was asked for. */
  hls?: HlsReport;
  /** What reached the file of the frames the requested rate asks for, and what the page saw of them. */
  frames?: FrameQuality;
  /** The chunks of the ingest socket: resent, out of order, missing, late. */
  chunks?: ChunkQuality;
  /** The A/V offset the recorder applied, and the one it measured on each participant's receive side. */
  avOffset?: AvOffsetQuality;
  /** By participant: the sound WebRTC made up for packets that came late or never (holes a listener hears). */
  sound?: SoundConcealed[];
}

export interface FrameQuality {
  /** Frames in the file, and how many its duration holds at the requested rate. */
  inFile: number;
  expected: number;
  /** What the file is short of: expected less inFile (never negative). */
  dropped: number;
  /** Frames the page drew that the encoder had no room for. */
  droppedByEncoder: number;
  /** Frames the page drew a frame period or more after their turn: the picture held, then caught up (duplicates in time). */
  late: number;
}

export interface ChunkQuality {
  /** Distinct chunks written to the spool. */
  received: number;
  /** Chunks that came again (the page resends what was not acknowledged after a reconnect). */
  resent: number;
  /** Connections of the page's ingest socket after the first. */
  reconnects: number;
  /** Chunks that came before one preceding them (a gap, held until it was filled). */
  outOfOrder: number;
  /** Chunks before the page's last that never came (the file lacks their media). */
  missing: number;
  /** Chunks that came more than LATE_CHUNK_TIMESLICES timeslices of recorded time after the one before them. */
  late: number;
  /** The longest wait, in recorded time, between two chunks. */
  longestGapMs: number;
}

export interface AvOffsetQuality {
  /** How much earlier the recorder moved the file's audio (RECORDER_AV_OFFSET_MS): the encoder's constant lag it cancels. */
  appliedMs: number;
  /** By participant, from the recorder page's WebRTC stats (a reading a second): how far their sound ran behind their picture, positive when late. */
  participants: AvOffsetMeasured[];
}

export interface SoundConcealed {
  identity: string;
  /** In the file, in all; and the most in any one second (the page reads it a second apart). */
  concealedMs: number;
  worstSecondMs: number;
}

export interface AvOffsetMeasured {
  identity: string;
  samples: number;
  medianMs: number;
  /** The most the sound ran behind the picture, and ahead of it (both positive; 0 when never). */
  maxBehindMs: number;
  maxAheadMs: number;
  /** Seconds of readings outside the window viewers notice (AV_SYNC_WINDOW_MS), in ms. */
  outOfSyncMs: number;
}

export interface ParticipantPresence {
  identity: string;
  name: string;
  /** 0 when already there at time 0. */
  joinedMs: number;
  /** Absent when still there at the end. */
  leftMs?: number;
  /** When their camera was first on the picture; absent if never. */
  visibleMs?: number;
}

/** What reached the storage of a recording's HLS output (recorder/hls-uploader.ts). */
export interface HlsReport {
  playlistKey: string;
  /** Segments stored and listed by the playlist, and their summed duration. */
  segments: number;
  durationMs: number;
  /** Segments FFmpeg cut that never reached the storage (left out of the playlist). */
  missing: string[];
  /**
   * Median, over the segments uploaded live, from a segment's first (and last) frame to it
   * being readable in the storage; a frame's wall time is taken as recordingAt plus its place
   * in the file, so after a pause these include the paused time (the figure is an unpaused call's).
   */
  readableAfterMs?: { firstFrame: number; lastFrame: number };
  /**
   * The live output stopped before the recording ended and the playlist was completed from
   * the spool after it (recorder/hls-salvage.ts): why it stopped, and what viewers had of it
   * until then (the segments stored live, and their duration).
   */
  completedFromSpool?: { reason: HlsInterruption; liveSegments: number; liveDurationMs: number };
}

/** Why a live HLS output stopped early: its FFmpeg died while the recording went on, or the worker running it was lost. */
export type HlsInterruption = 'live_output_failed' | 'worker_lost';

export interface RecordingProgress {
  elapsedMs: number;
  bytes: number;
  chunks: number;
  participants: number;
  fps: number;
  /** Each subscribed video: its tile and the picture received for it (the simulcast layer). */
  videoInputs: VideoInput[];
}

export interface RecordingResult {
  id: string;
  path: string;
  format: OutputFormat;
  size: number;
  durationMs: number;
  /** The raw MediaRecorder stream as received, kept until the caller removes it. */
  spoolPath: string;
  startedAt: Date;
  endedAt: Date;
  /** Why it ended; 'failed' results still hold every second that reached the spool. */
  endReason: RecordingEndReason;
  error?: { code: string; message: string };
  quality?: RecordingQuality;
  /** The pauses where the page's encoder made them: the file's own seams, a moment after the API stamped each. */
  pauses?: PausedSpan[];
}

export const RECORDING_END_REASONS = ['stopped', 'max_duration', 'pause_limit', 'room_ended', 'failed', 'shutdown'] as const;
export type RecordingEndReason = (typeof RECORDING_END_REASONS)[number];

export interface LiveRecording {
  readonly id: string;
  /** Resolves when the first media chunk has reached the spool, with how the recording began. */
  readonly firstChunk: Promise<RecordingStart>;
  /**
   * Resolves with the finished file whether stopped by the caller, by itself or by a
   * fault after media arrived (endReason 'failed'); rejects with an AppError only when
   * nothing was captured.
   */
  readonly done: Promise<RecordingResult>;
  progress(): RecordingProgress;
  onProgress(listener: (p: RecordingProgress) => void): () => void;
  /** Each change of its stream destinations' states (rtmp, srt outputs), the whole list; absent: it has none. */
  onStreams?(listener: (streams: StreamInfo[]) => void): () => void;
  /** The FFmpeg process this recording owns right now, for observability and leak checks. */
  ffmpegPid(): number | undefined;
  /** Applies a live change (layout, theme, who is recorded) to what is being recorded. */
  update(options: RecordingOptions): Promise<void>;
  /**
   * Pauses (true) or resumes (false) the encoder: nothing of a pause is in the file, and the
   * maximum duration counts recorded time. Resolves once the page did it.
   */
  setPaused(paused: boolean): Promise<void>;
  /** Asks the page to flush, waits for the last chunk, closes FFmpeg. Idempotent. */
  stop(reason?: RecordingEndReason): Promise<RecordingResult>;
}
