import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probe } from '../../src/recorder/probe';

/**
 * A file's frame rate, as probe() reads it with real FFmpeg files: frames over the video's own
 * span, not over the container's length, where the sound runs longer than the picture (a
 * WebM made from a loaded recording had its video start 0.3 s after its sound and read 28 fps).
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-rate-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** 4 s of 30 fps video starting `videoStartS` into `soundS` of sound, in `ext`. */
function file(ext: 'webm' | 'mkv' | 'mp4', videoStartS: number, soundS: number): string {
  const out = path.join(tmp, `late-${videoStartS}-${soundS}.${ext}`);
  const video = ext === 'mp4' ? ['-c:v', 'libx264', '-preset', 'ultrafast'] : ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8'];
  execFileSync('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc=s=160x90:r=30:d=4', '-f', 'lavfi', '-i', `sine=frequency=500:duration=${soundS}`,
    '-filter_complex', `[0:v]setpts=PTS+${videoStartS}/TB[v]`, '-map', '[v]', '-map', '1:a', '-fps_mode', 'passthrough',
    ...video, '-c:a', ext === 'mp4' ? 'aac' : 'libopus', out,
  ]);
  return out;
}

test.each(['webm', 'mkv', 'mp4'] as const)('%s: a picture 0.4 s later than the sound still reads 30 fps', async (ext) => {
  const info = await probe('ffprobe', file(ext, 0.4, 4.4), { countFrames: true });
  expect(info.video!.frames).toBe(120);
  expect(info.durationMs).toBeGreaterThan(4350);
  expect(info.video!.fps!).toBeCloseTo(30, 0);
});

test('a picture in step with the sound reads 30 fps', async () => {
  const info = await probe('ffprobe', file('webm', 0, 4), { countFrames: true });
  expect(info.video!.fps!).toBeCloseTo(30, 0);
});
