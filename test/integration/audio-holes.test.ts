import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FfmpegSink, remuxFile, type OutputSpec } from '../../src/recorder/ffmpeg-sink';
import { audioSamples } from '../helpers/media';

/**
 * A hole in the page's audio timestamps (sound a starved page never captured) stays a hole in
 * the MP4's sound, filled with silence, so the sound after it stays with the picture. Without it
 * the file's AAC played its samples one after another and every beep after a 150 ms hole came
 * 150 ms early (what a player and FFmpeg's own decoder hear). Real FFmpeg files: a WebM of
 * MediaRecorder's codecs (H.264 and Opus, in Matroska as Chromium writes them) with a beep at each whole second, then 150 ms of
 * timestamps skipped at 4.5 s; through the live sink and through the recovery path.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'audio-holes-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const spec: OutputSpec = { format: 'mp4', videoCodec: 'h264', audioShiftMs: 0 };

/** 10 s of H.264 and Opus with a 100 ms beep at each whole second; `holeMs` of the sound's timestamps skipped at 4.5 s. */
function webm(holeMs: number): string {
  const whole = path.join(tmp, 'whole.webm');
  if (!fs.existsSync(whole)) {
    execFileSync('ffmpeg', [
      '-v', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc=s=160x90:r=30:d=10', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000:duration=10',
      '-af', "volume='if(lt(mod(t,1),0.1),4,0)':eval=frame",
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-c:a', 'libopus', '-f', 'matroska', whole,
    ]);
  }
  if (holeMs === 0) return whole;
  const out = path.join(tmp, `hole-${holeMs}.webm`);
  // Opus in WebM counts in milliseconds
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', whole, '-c', 'copy', '-bsf:a', `setts=ts='if(gte(TS,4500),TS+${holeMs},TS)'`, '-f', 'matroska', out]);
  return out;
}

/** Where each beep begins in the file's sound, decoded as a player plays it (s). */
async function beeps(file: string): Promise<number[]> {
  const samples = await audioSamples(file, 0, 12);
  const onsets: number[] = [];
  for (let i = 0, on = false; i + 160 <= samples.length; i += 160) {
    const power = samples.subarray(i, i + 160).reduce((a, x) => a + x * x, 0) / 160;
    if (power > 0.01 && !on) onsets.push(Math.round((i / 16000) * 100) / 100);
    on = power > 0.01;
  }
  return onsets;
}

async function throughSink(input: string, output: string): Promise<void> {
  const sink = new FfmpegSink('ffmpeg', output, spec);
  sink.write(fs.readFileSync(input));
  await sink.end();
}

const paths = { 'the live sink': throughSink, 'the recovery path': (i: string, o: string) => remuxFile('ffmpeg', i, o, spec) };

test.each(Object.keys(paths) as (keyof typeof paths)[])('%s: the beeps after a 150 ms hole in the sound come 150 ms later, as their timestamps say', async (name) => {
  const out = path.join(tmp, `${name.replace(/ /g, '-')}-hole.mp4`);
  await paths[name](webm(150), out);
  const heard = await beeps(out);
  // each beep within two 10 ms windows of where its timestamps put it: from 5 s, 150 ms later
  const wanted = [0, 1, 2, 3, 4, 5.15, 6.15, 7.15, 8.15, 9.15];
  expect({ heard, onTime: heard.length === wanted.length && heard.every((t, i) => Math.abs(t - wanted[i]!) <= 0.02) }).toEqual({ heard, onTime: true });
});

test('a file without holes keeps every beep at its second and the sound as long as the picture', async () => {
  const out = path.join(tmp, 'whole.mp4');
  await throughSink(webm(0), out);
  const heard = await beeps(out);
  expect({ heard, onTime: heard.length === 10 && heard.every((t, i) => Math.abs(t - i) <= 0.02) }).toEqual({ heard, onTime: true });
  const { streams } = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,duration', '-of', 'json', out]).toString()) as { streams: { codec_type: string; duration: string }[] };
  const [video, audio] = ['video', 'audio'].map((k) => Number(streams.find((s) => s.codec_type === k)!.duration));
  expect(Math.abs(audio! - video!)).toBeLessThan(0.1);
});
