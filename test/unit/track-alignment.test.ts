import { alignTrack, FRAME_MS } from '../../src/postprocess/track-alignment';

/** Loudness frames of a voice: bursts of varying length and level, deterministic. */
function voice(frames: number, seed: number): Float32Array {
  const out = new Float32Array(frames);
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < frames; ) {
    const len = 20 + Math.floor(rand() * 80);
    const level = rand() < 0.5 ? 0 : 0.1 + rand() * 0.4;
    for (let j = 0; j < len && i < frames; j++, i++) out[i] = level * (0.9 + 0.2 * rand());
  }
  return out;
}

/** The composite's loudness: the track from `atFrame` on, beside another voice. */
function mixed(track: Float32Array, atFrame: number, frames: number): Float32Array {
  const other = voice(frames, 99);
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) out[i] = other[i] * 0.6 + (i >= atFrame && i - atFrame < track.length ? track[i - atFrame] : 0);
  return out;
}

describe('an audio track lined up with the composite by its sound', () => {
  const track = voice(1200, 7); // 6 s
  const composite = mixed(track, 400, 2400); // the track begins at 2 s

  test('found where it is, from an estimate off by up to 500 ms either way', () => {
    for (const off of [-480, -240, -101, 0, 88, 240, 480]) expect(Math.abs(alignTrack(composite, track, 2000 + off)! - 2000)).toBeLessThanOrEqual(FRAME_MS);
  });

  test('nothing said when the track is silent, steady, or not in the composite', () => {
    expect(alignTrack(composite, new Float32Array(1200), 2000)).toBeUndefined();
    expect(alignTrack(composite, new Float32Array(1200).fill(0.3), 2000)).toBeUndefined();
    expect(alignTrack(mixed(new Float32Array(0), 0, 2400), track, 2000)).toBeUndefined();
  });

  test('a track before time 0 (the audio moved earlier) is found on the overlap', () => {
    const early = mixed(track.subarray(16), 0, 2400); // its first 80 ms are before the file
    expect(Math.abs(alignTrack(early, track, 0)! + 80)).toBeLessThanOrEqual(FRAME_MS);
  });
});
