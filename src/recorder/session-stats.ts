import type { PageMessage } from '../../recorder-page/src/protocol';
import type { RecordingProgress, RecordingQuality, RecordingStart, VideoInput } from '../recordings/contract';

type StatsMessage = Extract<PageMessage, { type: 'stats' }>;

/** The page's frame rate is only judged after this much recording: the first seconds warm up. */
const FPS_WARMUP_MS = 2000;

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
  private readonly listeners = new Set<(p: RecordingProgress) => void>();

  onJoined(participants: number): void {
    this.participants = participants;
  }

  onStats(msg: StatsMessage, progress: () => RecordingProgress): void {
    this.fps = msg.fps;
    this.participants = msg.participants;
    this.videoInputs = msg.videoInputs ?? [];
    if (msg.frames > 0) {
      this.firstStatsAt ??= Date.now();
      if (Date.now() - this.firstStatsAt >= FPS_WARMUP_MS) this.minFps = Math.min(this.minFps ?? Infinity, msg.fps);
    }
    if (this.listeners.size === 0) return;
    const p = progress();
    for (const l of this.listeners) l(p);
  }

  live(): Pick<RecordingProgress, 'participants' | 'fps' | 'videoInputs'> {
    return { participants: this.participants, fps: this.fps, videoInputs: this.videoInputs };
  }

  subscribe(listener: (p: RecordingProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  quality(start: RecordingStart, fileFps: number | undefined): RecordingQuality {
    return {
      ...(fileFps !== undefined ? { fps: Math.round(fileFps * 100) / 100 } : {}),
      ...(this.minFps !== undefined ? { minDrawnFps: this.minFps } : {}),
      start: {
        ...(start.sinceRequestMs !== undefined ? { sinceRequestMs: start.sinceRequestMs } : {}),
        waitedMs: start.waitedMs,
        present: start.expected.length,
        late: start.late,
      },
    };
  }
}
