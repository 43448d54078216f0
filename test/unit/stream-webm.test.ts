import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebmRestartPoint } from '../../src/recorder/stream-webm';

/**
 * A stream output restarts from the WebM header and the latest keyframe cluster
 * (stream-webm.ts): fed in chunks cut anywhere, what it gives is a WebM FFmpeg reads from a
 * keyframe, shorter than the whole, ending where the stream is now.
 */
describe('WebmRestartPoint', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-webm-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const make = (name: string, live: boolean) => {
    const file = path.join(dir, name);
    // 4 s, a keyframe each second; `-live 1` writes unknown-size clusters, as MediaRecorder does
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=30', '-f', 'lavfi', '-i', 'sine=f=440', '-t', '4',
      '-c:v', 'libvpx', '-g', '30', '-b:v', '200k', '-c:a', 'libopus', '-f', 'webm', ...(live ? ['-live', '1'] : []), file]);
    return fs.readFileSync(file);
  };
  const frames = (file: string) =>
    execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => ({ pts: Number(l.split(',')[0]), key: l.split(',')[1].startsWith('K') }));

  it.each([
    ['unknown-size clusters', true, 997],
    ['sized clusters', false, 4096],
  ])('%s, chunks of %i bytes', (_name, live, chunk) => {
    const webm = make(`in-${live}.webm`, live);
    const point = new WebmRestartPoint();
    expect(point.restartBytes()).toBeUndefined();
    // up to 2.5 s of the stream
    const cut = Math.floor(webm.length * 0.62);
    for (let at = 0; at < cut; at += chunk) point.push(webm.subarray(at, Math.min(cut, at + chunk)));
    const restart = point.restartBytes()!;
    expect(restart.length).toBeLessThan(cut * 0.7);
    const out = path.join(dir, `restart-${live}.webm`);
    fs.writeFileSync(out, restart);
    const got = frames(out);
    expect(got[0].key).toBe(true);
    // it starts at the latest keyframe (each second), not at the beginning
    expect(got[0].pts).toBeGreaterThanOrEqual(1);
    // and ends where the stream is: the bytes after the keyframe are all there
    const whole = frames(path.join(dir, `in-${live}.webm`));
    const last = got.at(-1)!.pts;
    expect(whole.filter((f) => f.pts >= got[0].pts && f.pts <= last)).toHaveLength(got.length);
  });
});
