import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { colourRegion, FRAME_H, FRAME_W } from './media';

const run = promisify(execFile);

export interface FirstFrames {
  /** pts (s) of the file's first video frame: the file's time 0 is this frame. */
  firstPts: number;
  /** Seconds from the first frame to the first frame in which every colour is visible; null if none within the window. */
  allVisibleAfter: number | null;
  /** Per colour: seconds from the first frame to its first appearance (null: never in the window). */
  visibleAfter: (number | null)[];
  /** Frames decoded in the window. */
  frames: number;
}

/**
 * Decodes the first `seconds` of a file's video frame by frame (160x90) and finds when each
 * colour first covers at least `minShare` of the picture, and when all of them first do.
 */
export async function firstFrames(file: string, colours: string[], opts: { seconds?: number; minShare?: number } = {}): Promise<FirstFrames> {
  const seconds = opts.seconds ?? 4;
  const minShare = opts.minShare ?? 0.03;
  const [{ stdout: raw }, { stdout: pts }] = await Promise.all([
    run('ffmpeg', ['-v', 'error', '-i', file, '-t', String(seconds), '-an', '-vf', `scale=${FRAME_W}:${FRAME_H}`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
      encoding: 'buffer',
      maxBuffer: 1 << 28,
    }),
    run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-read_intervals', `%+${seconds + 1}`, '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', file]),
  ]);
  const times = pts.trim().split('\n').filter(Boolean).map(Number);
  const size = FRAME_W * FRAME_H * 3;
  const frames = Math.min(times.length, Math.floor(raw.length / size));
  const firstPts = times[0] ?? 0;
  const visibleAfter: (number | null)[] = colours.map(() => null);
  let allVisibleAfter: number | null = null;
  for (let i = 0; i < frames; i++) {
    const frame = raw.subarray(i * size, (i + 1) * size);
    const seen = colours.map((c) => colourRegion(frame, c).share >= minShare);
    seen.forEach((s, k) => {
      if (s && visibleAfter[k] === null) visibleAfter[k] = times[i] - firstPts;
    });
    if (seen.every(Boolean)) {
      allVisibleAfter = times[i] - firstPts;
      break;
    }
  }
  return { firstPts, allVisibleAfter, visibleAfter, frames };
}
