import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { audioSamples, hexToRgb } from './media';

const run = promisify(execFile);

/** Each stored frame (passthrough: one picture per frame) as its time and which of the colours fills most of it. */
export async function framesByColour(file: string, colours: string[]): Promise<{ t: number; colour: string | null }[]> {
  const [{ stdout: rgb }, { stdout: times }] = await Promise.all([
    run('ffmpeg', ['-v', 'error', '-i', file, '-vf', 'scale=16:9', '-fps_mode', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'], { encoding: 'buffer', maxBuffer: 1 << 26 }),
    run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', file]),
  ]);
  const targets = colours.map((c) => ({ c, rgb: hexToRgb(c) }));
  return times
    .trim()
    .split('\n')
    .map((line, k) => {
      const px = rgb.subarray(k * 144 * 3, (k + 1) * 144 * 3);
      const shares = targets.map(({ c, rgb: [r, g, b] }) => {
        let n = 0;
        for (let i = 0; i < 144; i++) if (Math.abs(px[i * 3] - r) + Math.abs(px[i * 3 + 1] - g) + Math.abs(px[i * 3 + 2] - b) < 120) n++;
        return { c, share: n / 144 };
      });
      const best = shares.reduce((a, b) => (b.share > a.share ? b : a));
      return { t: Number(line), colour: best.share > 0.1 ? best.c : null };
    });
}

/**
 * The A/V offset of a file of a publisher that flashes white and beeps together (synthetic
 * publisher, `flash`): for each white flash, the nearest beep's onset less the flash's time
 * (s; positive: the sound late), with the flashes and beeps found.
 */
export async function flashBeepOffsets(file: string, seconds: number): Promise<{ white: number[]; beeps: number[]; offsets: { t: number; d: number }[] }> {
  const frames = await framesByColour(file, ['#ffffff', '#000000']);
  const white = frames.filter((f, i) => f.colour === '#ffffff' && frames[i - 1]?.colour !== '#ffffff').map((f) => f.t);
  const samples = await audioSamples(file, 0, seconds);
  const beeps: number[] = [];
  for (let i = 0, on = false; i + 160 <= samples.length; i += 160) {
    const power = samples.subarray(i, i + 160).reduce((a, x) => a + x * x, 0) / 160;
    if (power > 0.01 && !on) beeps.push(i / 16000);
    on = power > 0.01;
  }
  // a flash whose beep is not within half a second (the file ended first) is not a pair
  const offsets = white
    .map((t) => ({ t, d: beeps.reduce((best, b) => (Math.abs(b - t) < Math.abs(best - t) ? b : best), Infinity) - t }))
    .filter((o) => Math.abs(o.d) < 0.5);
  return { white, beeps, offsets };
}
