import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const FRAME_W = 160;
export const FRAME_H = 90;

/** One decoded frame at `seconds`, scaled to 160x90 RGB. */
export async function frameAt(file: string, seconds: number): Promise<Buffer> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-ss', String(seconds), '-i', file, '-frames:v', '1', '-vf', `scale=${FRAME_W}:${FRAME_H}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 1 << 24 },
  );
  if (stdout.length !== FRAME_W * FRAME_H * 3) throw new Error(`no frame at ${seconds}s of ${file} (${await videoFrameSpan(file)})`);
  return stdout;
}

/** Where a file's video frames are, for a failure's message: their count and the first and last one's time. */
async function videoFrameSpan(file: string): Promise<string> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', file]).catch((err: Error) => ({ stdout: `! ${err.message}` }));
  if (stdout.startsWith('! ')) return `ffprobe failed: ${stdout.slice(2)}`;
  const times = stdout.split('\n').map((t) => t.replace(/,+$/, '')).filter(Boolean);
  return `${times.length} video frames, the first at ${times[0] ?? '-'} s, the last at ${times[times.length - 1] ?? '-'} s`;
}

export function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export interface ColourRegion {
  /** Share of the frame's pixels within tolerance of the colour. */
  share: number;
  /** Centre of those pixels, as fractions of width and height. */
  cx: number;
  cy: number;
}

/** A frame's mean colour as #rrggbb: what a frame showed, for a failure's message. */
export function meanColour(frame: Buffer): string {
  const sum = [0, 0, 0];
  for (let i = 0; i < FRAME_W * FRAME_H * 3; i++) sum[i % 3] += frame[i];
  return `#${sum.map((v) => Math.round(v / (FRAME_W * FRAME_H)).toString(16).padStart(2, '0')).join('')}`;
}

export function colourRegion(frame: Buffer, hex: string, tolerance = 60): ColourRegion {
  const [r, g, b] = hexToRgb(hex);
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < FRAME_W * FRAME_H; i++) {
    const d = Math.abs(frame[i * 3] - r) + Math.abs(frame[i * 3 + 1] - g) + Math.abs(frame[i * 3 + 2] - b);
    if (d <= tolerance) {
      n++;
      sx += i % FRAME_W;
      sy += Math.floor(i / FRAME_W);
    }
  }
  return { share: n / (FRAME_W * FRAME_H), cx: n ? sx / n / FRAME_W : -1, cy: n ? sy / n / FRAME_H : -1 };
}

/**
 * Mono 16 kHz samples of the audio between `from` and `from + seconds`: the mix of its channels, or one of them (0 left, 1 right).
 * `onTimestamps`: each sample where the file's timestamps put it (a jump in them is silence), not one after the other; on a
 * starved machine the page's audio timestamps jump (0.1 to 1.4 s in all of an 11 s file were seen), and a player keeps the
 * sound where they say.
 */
export async function audioSamples(file: string, from: number, seconds: number, channel?: 0 | 1, onTimestamps = false): Promise<Float32Array> {
  const filters = [...(channel === undefined ? [] : [`pan=mono|c0=c${channel}`]), ...(onTimestamps ? ['aresample=async=1:first_pts=0'] : [])];
  const mono = [...(channel === undefined ? ['-ac', '1'] : []), ...(filters.length ? ['-af', filters.join(',')] : [])];
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-ss', String(from), '-t', String(seconds), '-i', file, '-vn', ...mono, '-ar', '16000', '-f', 'f32le', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 1 << 26 },
  );
  return new Float32Array(stdout.buffer, stdout.byteOffset, Math.floor(stdout.length / 4));
}

/** The window of tonePowerWindows, in ms. */
const TONE_WINDOW_MS = 20;

/**
 * The power of one frequency in each TONE_WINDOW_MS window of 16 kHz samples (audioSamples'):
 * `windows` of them, all that fit by default (one past the samples' end is NaN, which no threshold passes).
 */
export function tonePowerWindows(samples: Float32Array, hz: number, windows?: number): number[] {
  const win = (16000 * TONE_WINDOW_MS) / 1000;
  return Array.from({ length: windows ?? Math.floor(samples.length / win) }, (_, k) => tonePower(samples.subarray(k * win, (k + 1) * win), hz));
}

/** Power of one frequency in the samples (Goertzel), normalised by sample count. */
export function tonePower(samples: Float32Array, hz: number, sampleRate = 16000): number {
  const k = (2 * Math.PI * hz) / sampleRate;
  const coeff = 2 * Math.cos(k);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (samples.length * samples.length);
}

export function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A file's video packets in time order: when each is shown (s), and whether it is a keyframe. */
export async function videoPackets(file: string): Promise<{ t: number; key: boolean }[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file], { maxBuffer: 1 << 26 });
  return stdout
    .split('\n')
    .map((line) => line.split(','))
    .filter(([pts]) => pts !== undefined && pts !== '' && Number.isFinite(Number(pts)))
    .map(([pts, flags]) => ({ t: Number(pts), key: flags?.startsWith('K') ?? false }))
    .sort((a, b) => a.t - b.t);
}
