import { AppError } from '../errors';
import { runOwned, stderrTail } from './child';

/**
 * An audio track's offset measured from the media: its loudness over time lined up with the
 * composite's, which mixes the same sound. The page dates a track's start by its clock when
 * it created the track's MediaRecorder; on a loaded page the recorder starts later than that
 * (seen: a track placed 101 ms early, another 88 ms late, in one recording), while the sound
 * itself says where it is, to a frame of 5 ms. What the page measured stays the estimate
 * searched around, and the answer when the sound says nothing (silence, a steady tone).
 */

const RATE = 8000;
/** One loudness value per 5 ms. */
const FRAME_SAMPLES = 40;
export const FRAME_MS = (FRAME_SAMPLES / RATE) * 1000;
/** How far from the page's estimate the sound is looked for. */
const SEARCH_MS = 500;
/** Loudness is compared by its change over 20 ms: a step (a voice starting) becomes a peak. */
const CHANGE_FRAMES = 4;
/** A correlation below this says nothing about where the track is... */
const MIN_CORRELATION = 0.5;
/** ...nor one that another place, 20 ms or more away, nearly matches (a steady or periodic sound). */
const MIN_LEAD = 0.2;

/** The loudness (RMS) of a file's first audio stream, one value per FRAME_MS, mixed to mono. */
export async function loudness(ffmpegPath: string, file: string, signal?: AbortSignal): Promise<Float32Array> {
  const values: number[] = [];
  let sum = 0;
  let n = 0;
  let carry: Buffer | undefined;
  const r = await runOwned(ffmpegPath, ['-nostdin', '-hide_banner', '-v', 'error', '-i', file, '-map', '0:a:0', '-ac', '1', '-ar', String(RATE), '-f', 's16le', 'pipe:1'], {
    signal,
    background: true,
    onStdoutData: (chunk) => {
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      const whole = buf.length - (buf.length % 2);
      for (let i = 0; i < whole; i += 2) {
        const v = buf.readInt16LE(i) / 32768;
        sum += v * v;
        if (++n === FRAME_SAMPLES) {
          values.push(Math.sqrt(sum / n));
          sum = 0;
          n = 0;
        }
      }
      carry = whole < buf.length ? buf.subarray(whole) : undefined;
    },
  });
  if (r.code !== 0) throw new AppError('FFMPEG_FAILED', `decoding the audio of ${file} failed: ${stderrTail(r.stderr)}`);
  return Float32Array.from(values);
}

/**
 * Where `track` lies in `composite` (ms on the composite's clock), searched within SEARCH_MS
 * of `estimateMs`; undefined when no place fits clearly (the track is silent or steady, or
 * not in the mix). Pearson correlation of the loudness's changes over the overlap at each lag
 * (loudness itself gives broad peaks: a single step fits nearly as well 80 ms off), the best
 * refined between frames by a parabola.
 */
export function alignTrack(composite: Float32Array, track: Float32Array, estimateMs: number): number | undefined {
  const base = Math.round(estimateMs / FRAME_MS);
  const reach = Math.round(SEARCH_MS / FRAME_MS);
  const [c, t] = [changes(composite), changes(track)];
  const scores: number[] = [];
  for (let lag = -reach; lag <= reach; lag++) scores.push(correlation(c, t, base + lag));
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  const rival = Math.max(-1, ...scores.filter((_, i) => Math.abs(i - best) >= CHANGE_FRAMES));
  if (!(scores[best] >= MIN_CORRELATION && scores[best] - rival >= MIN_LEAD)) return undefined;
  const [before, at, after] = [scores[best - 1] ?? scores[best], scores[best], scores[best + 1] ?? scores[best]];
  const bend = before - 2 * at + after;
  const between = bend < 0 ? Math.max(-0.5, Math.min(0.5, (before - after) / (2 * bend))) : 0;
  return (base + best - reach + between) * FRAME_MS;
}

function changes(loud: Float32Array): Float32Array {
  const out = new Float32Array(Math.max(0, loud.length - CHANGE_FRAMES));
  for (let i = 0; i < out.length; i++) out[i] = loud[i + CHANGE_FRAMES] - loud[i];
  return out;
}

/** Pearson correlation of `track` with `composite` from frame `at` on, over their overlap; -1 when it is too short or flat. */
function correlation(composite: Float32Array, track: Float32Array, at: number): number {
  const from = Math.max(0, -at);
  const to = Math.min(track.length, composite.length - at);
  const n = to - from;
  if (n < 40) return -1; // under 200 ms of overlap
  let st = 0, sc = 0, stt = 0, scc = 0, stc = 0;
  for (let i = from; i < to; i++) {
    const t = track[i];
    const c = composite[i + at];
    st += t;
    sc += c;
    stt += t * t;
    scc += c * c;
    stc += t * c;
  }
  const vt = stt - (st * st) / n;
  const vc = scc - (sc * sc) / n;
  if (vt <= 1e-9 * n || vc <= 1e-9 * n) return -1;
  return (stc - (st * sc) / n) / Math.sqrt(vt * vc);
}
