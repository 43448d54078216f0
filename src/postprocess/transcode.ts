import fsp from 'node:fs/promises';
import { AppError } from '../errors';
import type { RecordingFormat } from '../recordings/options';
import { runOwned, stderrTail } from './child';
import { inspectRecording, type MediaInfo } from './inspect';
import { planConversion, type ConversionPlan, type PlanOptions } from './plan';

export interface ConvertOptions {
  ffmpegPath?: string;
  signal?: AbortSignal;
  /** 0..100 of the output's timeline written so far. */
  onProgress?: (percent: number) => void;
}

/**
 * Writes `info.path` to `outPath` as `plan` says (see planConversion). Written to a
 * temporary name first, so `outPath` exists only when complete. Runs in the background
 * (child.ts) on one thread: a WebM's encode to VP8 (about 5 times realtime at 720p30 on one core) must
 * not take CPU from live recordings, and one thread costs a fifth less CPU than two.
 */
export async function convertRecording(info: MediaInfo, plan: ConversionPlan, outPath: string, opts: ConvertOptions = {}): Promise<void> {
  const tmp = `${outPath}.tmp`;
  const durationUs = info.durationMs * 1000;
  let last = -1;
  const args = ['-nostdin', '-hide_banner', '-v', 'error', '-y', '-threads', '1', '-i', info.path, ...plan.args, '-threads', '1', '-progress', 'pipe:1', '-nostats', tmp];
  const r = await runOwned(opts.ffmpegPath ?? 'ffmpeg', args, {
    signal: opts.signal,
    background: true,
    onStdoutLine: (l) => {
      if (!opts.onProgress || !durationUs) return;
      if (l.startsWith('out_time_us=') || l.startsWith('out_time_ms=')) {
        const us = Number(l.slice(l.indexOf('=') + 1)); // both are microseconds in ffmpeg 5
        if (!Number.isFinite(us) || us < 0) return;
        const pct = Math.min(99, Math.floor((us / durationUs) * 100));
        if (pct > last) {
          last = pct;
          opts.onProgress(pct);
        }
      }
    },
  }).catch(async (err) => {
    await fsp.rm(tmp, { force: true });
    throw err;
  });
  if (r.code !== 0) {
    await fsp.rm(tmp, { force: true });
    const tail = stderrTail(r.stderr);
    const corrupt = /Invalid data|moov atom|EBML|truncat|corrupt|Error while decoding/i.test(tail);
    throw new AppError(corrupt ? 'RECORDING_CORRUPT' : 'FFMPEG_FAILED', `converting ${info.path} to ${plan.format} failed: ${tail}`, {
      details: { args: plan.args },
    });
  }
  await fsp.rename(tmp, outPath);
  opts.onProgress?.(100);
}

/** The recorder's file at `input` written as `format` to `outPath`, by post-processing's plan: for `recorder record`. */
export async function deliverFile(input: string, format: RecordingFormat, outPath: string, opts: ConvertOptions & PlanOptions & { ffprobePath?: string } = {}): Promise<void> {
  const info = await inspectRecording(input, opts);
  await convertRecording(info, planConversion(info, format, opts), outPath, opts);
}
