import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cutAtSeam, type PlacedSegment } from '../../src/postprocess/track-cuts';
import { probe } from '../../src/recorder/probe';

/**
 * Track segments cut at the composite's seams with real FFmpeg: a segment begun before a
 * pause that ran into it ends at the seam; one that began before a seam, or lies within its
 * stretch, is left as it was.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'track-cuts-'));
const tools = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' };
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A 3 s Opus segment in Ogg, as prepareTracks makes them, placed at `offsetMs`. */
async function segment(name: string, offsetMs: number): Promise<PlacedSegment> {
  const file = path.join(tmp, `${name}.ogg`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=500:duration=3', '-c:a', 'libopus', file]);
  const info = await probe('ffprobe', file);
  return { path: file, offsetMs, durationMs: info.durationMs, size: info.size };
}

test('a segment that ran 300 ms past the seam ends at it', async () => {
  const s = await segment('before', 0);
  const cut = await cutAtSeam(s, [2700, 9000], tools);
  expect(cut.offsetMs).toBe(0);
  expect(Math.abs(cut.durationMs - 2700)).toBeLessThanOrEqual(25);
  expect(cut.size).toBe(fs.statSync(s.path).size);
  expect(cut.size).toBeLessThan(s.size);
});

test('a segment that began before its seam keeps its start (it was placed there by the page, not cut there)', async () => {
  const s = await segment('after', 4800);
  expect(await cutAtSeam(s, [5000], tools)).toBe(s);
});

test('a segment within its stretch, or over it by less than a packet, is left as it was', async () => {
  const s = await segment('within', 1000);
  expect(await cutAtSeam(s, [500, 4010], tools)).toBe(s);
  expect(await cutAtSeam(s, [], tools)).toBe(s);
});
