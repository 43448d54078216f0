import { z } from 'zod';
import type { HlsReport, RecordingQuality } from './contract';

/**
 * Whether a finished recording is right, in the terms a viewer would use: the quality
 * report kept with it (the view's `quality`), with a warning for whatever fell short,
 * so a recording starved by load from outside says so instead of being silently bad.
 */
export const qualityReportSchema = z.object({
  fps: z.number().optional(),
  minDrawnFps: z.number().optional(),
  longestFreezeMs: z.number().optional(),
  // none for a salvaged recording (salvagedQuality)
  start: z.object({ sinceRequestMs: z.number().optional(), waitedMs: z.number(), present: z.number(), late: z.array(z.string()), allVisibleMs: z.number().optional() }).optional(),
  participants: z
    .array(z.object({ identity: z.string(), name: z.string(), joinedMs: z.number(), leftMs: z.number().optional(), visibleMs: z.number().optional() }))
    .optional(),
  hls: z
    .object({
      playlistKey: z.string(),
      segments: z.number(),
      durationMs: z.number(),
      missing: z.array(z.string()),
      readableAfterMs: z.object({ firstFrame: z.number(), lastFrame: z.number() }).optional(),
      completedFromSpool: z.object({ reason: z.enum(['live_output_failed', 'worker_lost']), liveSegments: z.number(), liveDurationMs: z.number() }).optional(),
    })
    .optional(),
  frames: z.object({ inFile: z.number(), expected: z.number(), dropped: z.number(), droppedByEncoder: z.number(), late: z.number() }).optional(),
  chunks: z
    .object({ received: z.number(), resent: z.number(), reconnects: z.number(), outOfOrder: z.number(), missing: z.number(), late: z.number(), longestGapMs: z.number() })
    .optional(),
  avOffset: z
    .object({
      appliedMs: z.number(),
      participants: z.array(
        z.object({ identity: z.string(), samples: z.number(), medianMs: z.number(), maxBehindMs: z.number(), maxAheadMs: z.number(), outOfSyncMs: z.number() }),
      ),
    })
    .optional(),
  sound: z.array(z.object({ identity: z.string(), concealedMs: z.number(), worstSecondMs: z.number() })).optional(),
  warnings: z.array(
    z.object({
      code: z.enum(['LOW_FPS', 'FROZEN_PICTURE', 'LATE_PARTICIPANTS', 'SLOW_START', 'HLS_SEGMENTS_MISSING', 'HLS_LIVE_INTERRUPTED', 'CHUNKS_MISSING', 'AV_OUT_OF_SYNC', 'SOUND_CONCEALED']),
      message: z.string(),
    }),
  ),
});

/** The report kept with a recording (stored as JSON, parsed back with the schema above). */
export type QualityReport = z.infer<typeof qualityReportSchema>;
export type QualityWarning = QualityReport['warnings'][number];

/** Below this the picture visibly stutters (the target is the requested rate, 30). */
export const MIN_FPS_RATIO = 29 / 30;
/** From the start request to the file's first frame. */
export const SLOW_START_MS = 1500;
/** A picture that stands still longer than this is seen to freeze (six frames at 30 fps). */
export const FREEZE_MS = 200;
/**
 * Sound this far ahead of the picture, or behind it, is noticed (ITU-R BT.1359's thresholds of
 * detectability: +45 ms ahead, -125 ms behind).
 */
export const AV_SYNC_WINDOW_MS = { ahead: 45, behind: 125 } as const;
/** A participant out of that window for longer than this in all is warned of (a spike of a second or two is not). */
export const AV_OUT_OF_SYNC_MS = 3000;

/**
 * A second with this much of a participant's sound made up is a hole a listener hears:
 * WebRTC's concealment stretches the last sound over a short loss, and fades it out over a
 * longer one (the standby page loads that held a recording's packets back made 140-300 ms).
 */
export const SOUND_HOLE_MS = 100;

export function assessQuality(q: RecordingQuality, requestedFps: number): QualityReport {
  const warnings: QualityWarning[] = [];
  const floor = requestedFps * MIN_FPS_RATIO;
  if (q.fps !== undefined && q.fps < floor) {
    warnings.push({ code: 'LOW_FPS', message: `the file has ${q.fps.toFixed(1)} frames per second of the ${requestedFps} asked for` });
  } else if (q.minDrawnFps !== undefined && q.minDrawnFps < floor) {
    warnings.push({ code: 'LOW_FPS', message: `the picture dropped to ${q.minDrawnFps.toFixed(1)} frames per second for a while (the machine was busy)` });
  }
  if (q.longestFreezeMs !== undefined && q.longestFreezeMs > FREEZE_MS) {
    warnings.push({ code: 'FROZEN_PICTURE', message: `the picture stood still for ${q.longestFreezeMs} ms at its longest (the machine was busy)` });
  }
  if (q.start.late.length > 0) {
    warnings.push({
      code: 'LATE_PARTICIPANTS',
      message: `${q.start.late.join(', ')} ${q.start.late.length === 1 ? 'was' : 'were'} in the room but not yet on screen when the recording began (shown by name until their video arrived)`,
    });
  }
  if (q.start.sinceRequestMs !== undefined && q.start.sinceRequestMs > SLOW_START_MS) {
    warnings.push({ code: 'SLOW_START', message: `the recording began ${(q.start.sinceRequestMs / 1000).toFixed(1)} s after it was asked for` });
  }
  if (q.hls) warnings.push(...hlsWarnings(q.hls));
  if (q.chunks && q.chunks.missing > 0) {
    warnings.push({ code: 'CHUNKS_MISSING', message: `${q.chunks.missing} chunk${q.chunks.missing === 1 ? '' : 's'} of media never reached the recorder: the file lacks that time` });
  }
  const outOfSync = (q.avOffset?.participants ?? []).filter((p) => p.outOfSyncMs > AV_OUT_OF_SYNC_MS);
  if (outOfSync.length > 0) {
    const worst = outOfSync.map((p) => `${p.identity} (${(p.outOfSyncMs / 1000).toFixed(0)} s, up to ${p.maxBehindMs >= p.maxAheadMs ? `${p.maxBehindMs} ms behind` : `${p.maxAheadMs} ms ahead`})`);
    warnings.push({ code: 'AV_OUT_OF_SYNC', message: `the sound was out of step with the picture for ${worst.join(', ')}` });
  }
  const holes = (q.sound ?? []).filter((s) => s.worstSecondMs >= SOUND_HOLE_MS);
  if (holes.length > 0) {
    const who = holes.map((s) => `${s.identity} (${s.concealedMs} ms in all, up to ${s.worstSecondMs} ms in one second)`);
    warnings.push({ code: 'SOUND_CONCEALED', message: `sound was missing and made up by the recorder's WebRTC (packets came late or never) for ${who.join(', ')}` });
  }
  return { ...q, warnings };
}


/**
 * The report of a recording salvaged after its worker was lost: that worker's figures went
 * with it; what the salvage made of its HLS output (hls-salvage.ts) is all there is.
 */
export function salvagedQuality(hls: HlsReport): QualityReport {
  return { hls, warnings: hlsWarnings(hls) };
}

function hlsWarnings(hls: HlsReport): QualityWarning[] {
  const warnings: QualityWarning[] = [];
  if (hls.missing.length > 0) {
    warnings.push({
      code: 'HLS_SEGMENTS_MISSING',
      message: `${hls.missing.length} HLS segment${hls.missing.length === 1 ? '' : 's'} did not reach the storage and ${hls.missing.length === 1 ? 'is' : 'are'} left out of the playlist (${hls.missing.join(', ')}); the file has everything`,
    });
  }
  const cut = hls.completedFromSpool;
  if (cut) {
    warnings.push({
      code: 'HLS_LIVE_INTERRUPTED',
      message: `the live HLS output stopped after ${cut.liveSegments} segment${cut.liveSegments === 1 ? '' : 's'} (${(cut.liveDurationMs / 1000).toFixed(1)} s) when ${cut.reason === 'worker_lost' ? 'its worker was lost' : 'its FFmpeg failed'}; viewers saw nothing newer until the recording ended, when the playlist was completed from the spool`,
    });
  }
  return warnings;
}

/** A stored quality report, or null when there is none (or it is not one). */
export function parseQuality(stored: unknown): QualityReport | null {
  const parsed = qualityReportSchema.safeParse(stored);
  return parsed.success ? parsed.data : null;
}
