import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/recorder/logger';
import { probe } from '../../src/recorder/probe';
import { SessionStreams } from '../../src/recorder/stream-outputs';
import type { StreamInfo } from '../../src/recordings/streams';
import { freePort } from '../helpers/ports';
import { sleep, waitFor } from '../helpers/recorder-process';

/**
 * An SRT stream output (Debian's FFmpeg has the srt protocol) through the same stream code
 * as RTMP (recorder/stream-outputs.ts), fed a live H.264 + Opus Matroska stream as the
 * page's chunks come: a listener that is not there yet is retried (RETRYING, lastError), the
 * stream starts once it is (ACTIVE) from a keyframe, and at the end the listener's file holds
 * H.264 and AAC in MPEG-TS; the key-like stream id is never in the states.
 */
describe('an SRT stream output', () => {
  let dir: string;
  let source: ChildProcess | undefined;
  let listener: ChildProcess | undefined;
  afterAll(() => {
    source?.kill('SIGKILL');
    listener?.kill('SIGKILL');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is retried until the listener is up, then streams H.264 and AAC', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-srt-'));
    const port = await freePort();
    const url = `srt://127.0.0.1:${port}?streamid=s3cret-stream-id&connect_timeout=1000`;
    const streams = new SessionStreams({ ffmpegPath: 'ffmpeg', log: silentLogger }, [{ type: 'srt', url }]);
    const states: StreamInfo[][] = [];
    streams.subscribe((s) => states.push(s));
    streams.start({ format: 'mp4', videoCodec: 'h264' });
    // the page's stream, in real time: H.264 with a keyframe a second, Opus, unknown-size clusters
    source = spawn('ffmpeg', ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000', '-t', '12',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-c:a', 'libopus', '-f', 'matroska', '-live', '1', 'pipe:1']);
    source.stdout!.on('data', (chunk: Buffer) => streams.write(chunk));

    const said = () => JSON.stringify(states.at(-1));
    await waitFor(async () => states.at(-1)?.[0].status === 'RETRYING', 10000, () => `RETRYING without a listener: ${said()}`);
    const out = path.join(dir, 'received.ts');
    listener = spawn('ffmpeg', ['-v', 'error', '-y', '-i', `srt://127.0.0.1:${port}?mode=listener`, '-c', 'copy', '-f', 'mpegts', out]);
    await waitFor(async () => states.at(-1)?.[0].status === 'ACTIVE', 15000, () => `ACTIVE once the listener is up: ${said()}`);
    await sleep(3000);
    await Promise.race([streams.end(), sleep(8000).then(() => Promise.reject(new Error(`end() hangs: ${said()}`)))]);
    // the listener ends its file when the caller closes, else on SIGINT (its file is whole either way)
    await new Promise<void>((resolve) => {
      // it may have ended already, during end(): its exit came and will not come again
      if (listener!.exitCode !== null || listener!.signalCode !== null) return resolve();
      listener!.once('exit', () => resolve());
      setTimeout(() => listener!.kill('SIGINT'), 2000);
      setTimeout(() => listener!.kill('SIGKILL'), 5000);
    });

    const last = states.at(-1)![0];
    expect(last).toMatchObject({ type: 'srt', status: 'ENDED', retries: expect.any(Number), lastError: expect.any(String), startedAt: expect.any(String), endedAt: expect.any(String) });
    expect(last.retries).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(states)).not.toContain('s3cret-stream-id');
    const info = await probe('ffprobe', out);
    expect(info.streams.filter((s) => s.type === 'video')).toEqual([expect.objectContaining({ codec: 'h264', width: 320, height: 180 })]);
    expect(info.streams.filter((s) => s.type === 'audio')).toEqual([expect.objectContaining({ codec: 'aac' })]);
    expect(info.durationMs).toBeGreaterThan(2000);
  }, 60000);
});
