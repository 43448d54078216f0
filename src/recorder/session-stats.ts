import type { PageMessage } from '../../recorder-page/src/protocol';
import type { ChunkQuality, FrameQuality, ParticipantPresence, RecordingProgress, RecordingQuality, RecordingStart, VideoInput } from '../recordings/contract';
import { toFileMs, type PausedSpan } from '../recordings/timeline';
import { AvOffsetStats } from './av-offset-stats';
import { SoundStats } from './sound-stats';

type StatsMessage = Extract<PageMessage, { type: 'stats' }>;
type PresenceMessage = Extract<PageMessage, { type: 'presence' }>;

/** Bounds what a page can make us keep (a call with many comings and goings still fits). */
const MAX_PRESENCE_EVENTS = 2000;

/** The page's frame rate is only judged after this much recording: the first seconds warm up. */
const FPS_WARMUP_MS = 2000;
/** The page reads its receivers' stats once a stats message: a reading stands for this long. */
const AV_READING_MS = 1000;

/**
 * What the page reports about a live recording (frame rate, participants, videos), kept
 * for progress events and the quality report at the end.
 */
export class SessionStats {
  private fps = 0;
  private participants = 0;
  private videoInputs: VideoInput[] = [];
  private minFps?: number;
  private firstStatsAt?: number;
  private longestFreezeMs?: number;
  private framesDropped = 0;
  private framesLate = 0;
  private readonly av = new AvOffsetStats();
  private readonly sound = new SoundStats();
  private readonly presence: PresenceMessage[] = [];
  private readonly firstSeen = new Map<string, number>();
  private readonly listeners = new Set<(p: RecordingProgress) => void>();

  onJoined(participants: number): void {
    this.participants = participants;
  }

  onStats(msg: StatsMessage, progress: () => RecordingProgress): void {
    this.fps = msg.fps;
    this.participants = msg.participants;
    this.videoInputs = msg.videoInputs ?? [];
    if (msg.frames > 0) {
      this.framesDropped = msg.framesDropped ?? this.framesDropped;
      this.framesLate = msg.framesLate ?? this.framesLate;
      for (const a of msg.av ?? []) this.av.add(a.identity, a.audioMs - a.videoMs);
      for (const s of msg.sound ?? []) this.sound.add(s.identity, s.concealedMs, Date.now());
      this.firstStatsAt ??= Date.now();
      if (Date.now() - this.firstStatsAt >= FPS_WARMUP_MS) {
        this.minFps = Math.min(this.minFps ?? Infinity, msg.fps);
        if (msg.maxFrameGapMs !== undefined) this.longestFreezeMs = Math.max(this.longestFreezeMs ?? 0, msg.maxFrameGapMs);
      }
    }
    if (this.listeners.size === 0) return;
    const p = progress();
    for (const l of this.listeners) l(p);
  }

  onPresence(msg: PresenceMessage): void {
    if (this.presence.length < MAX_PRESENCE_EVENTS) this.presence.push(msg);
  }

  onFirstVideo(identity: string, at: number): void {
    if (!this.firstSeen.has(identity) && this.firstSeen.size < MAX_PRESENCE_EVENTS) this.firstSeen.set(identity, at);
  }

  live(): Pick<RecordingProgress, 'participants' | 'fps' | 'videoInputs'> {
    return { participants: this.participants, fps: this.fps, videoInputs: this.videoInputs };
  }

  subscribe(listener: (p: RecordingProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The report's share of what the page said, on the file's clock (`pauses`: as applied to the
   * encoder), with the file as probed; `recorded.fps` the rate asked for, `avAppliedMs` how much
   * earlier the file's audio was moved, `chunks` what the ingest socket delivered.
   */
  quality(
    start: RecordingStart,
    file: { fps?: number; frames?: number; durationMs: number },
    pauses: readonly PausedSpan[],
    recorded: { fps: number; avAppliedMs: number; chunks?: ChunkQuality },
  ): RecordingQuality {
    const fileFps = file.fps;
    const onFile = (at: number) => toFileMs(new Date(at), start.recordingAt, pauses);
    const participants = this.participantsOnFile(onFile);
    const present = start.expected.map((e) => participants.find((p) => p.identity === e)?.visibleMs);
    const allVisibleMs = present.length > 0 && present.every((v) => v !== undefined) ? Math.max(...(present as number[])) : undefined;
    return {
      ...(fileFps !== undefined ? { fps: Math.round(fileFps * 100) / 100 } : {}),
      ...(this.minFps !== undefined ? { minDrawnFps: this.minFps } : {}),
      ...(this.longestFreezeMs !== undefined ? { longestFreezeMs: this.longestFreezeMs } : {}),
      start: {
        ...(start.sinceRequestMs !== undefined ? { sinceRequestMs: start.sinceRequestMs } : {}),
        waitedMs: start.waitedMs,
        present: start.expected.length,
        late: start.late,
        ...(allVisibleMs !== undefined ? { allVisibleMs } : {}),
      },
      participants,
      ...(fileFps !== undefined ? { frames: this.frameCounts(file.frames ?? (fileFps * file.durationMs) / 1000, file.durationMs, recorded.fps) } : {}),
      ...(recorded.chunks ? { chunks: recorded.chunks } : {}),
      avOffset: { appliedMs: recorded.avAppliedMs, participants: this.av.summary(AV_READING_MS) },
      sound: this.sound.summary(start.recordingAt, pauses, AV_READING_MS),
    };
  }

  private frameCounts(framesInFile: number, durationMs: number, askedFps: number): FrameQuality {
    const inFile = Math.round(framesInFile);
    const expected = Math.round((askedFps * durationMs) / 1000);
    return { inFile, expected, dropped: Math.max(0, expected - inFile), droppedByEncoder: this.framesDropped, late: this.framesLate };
  }

  /** One entry per stay: someone who left and came back has two. */
  private participantsOnFile(onFile: (at: number) => number): ParticipantPresence[] {
    const stays: ParticipantPresence[] = [];
    const open = new Map<string, ParticipantPresence>();
    for (const msg of this.presence) {
      const here = open.get(msg.identity);
      if (msg.present && !here) {
        const stay: ParticipantPresence = { identity: msg.identity, name: msg.name, joinedMs: onFile(msg.at) };
        const seen = this.firstSeen.get(msg.identity);
        if (seen !== undefined && stays.every((s) => s.identity !== msg.identity)) stay.visibleMs = onFile(seen);
        open.set(msg.identity, stay);
        stays.push(stay);
      } else if (!msg.present && here) {
        here.leftMs = onFile(msg.at);
        open.delete(msg.identity);
      }
    }
    return stays;
  }
}
