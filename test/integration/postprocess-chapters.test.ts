import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PostProcessor } from '../../src/postprocess/processor';
import type { RecordingFormat } from '../../src/recordings/options';
import { LocalStorage } from '../../src/storage';
import { makeSyntheticRecording } from '../helpers/synthetic-recording';

/**
 * Chapters in every delivered container, from the recording's pauses and markers: a stream
 * copy of what the pass made, read back by ffprobe, and the same in manifest.json.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-chapters-'));
const storeDir = path.join(tmp, 'store');
const storage = new LocalStorage({ dir: storeDir });
let mkv: string;
let webm: string;

beforeAll(async () => {
  [mkv, webm] = await Promise.all([
    makeSyntheticRecording(path.join(tmp, 'in.mkv'), 'h264-opus.mkv', { durationSec: 4, width: 320, height: 180 }),
    makeSyntheticRecording(path.join(tmp, 'in.webm'), 'vp8-opus.webm', { durationSec: 4, width: 320, height: 180 }),
  ]);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const t0 = new Date('2026-12-02T01:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

function chapters(file: string): [string, number][] {
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_chapters', '-of', 'json', file], { encoding: 'utf8' }));
  return out.chapters.map((c: { start_time: string; tags?: { title?: string } }) => [c.tags?.title ?? '', Number(Number(c.start_time).toFixed(3))]);
}

test.each<[RecordingFormat, () => string]>([
  ['mp4', () => mkv],
  ['mkv', () => mkv],
  ['webm', () => webm],
  ['m4a', () => mkv],
  ['ogg', () => mkv],
])('%s: a chapter at 0, at the resume, at the marker (inside the file, and in the manifest)', async (format, input) => {
  const id = `rec-${format}`;
  const p = new PostProcessor({ storage, workDir: path.join(tmp, 'work'), prefix: 'rec/' });
  const result = await p.process({
    recordingId: id,
    callId: 'call-1',
    inputPath: input(),
    format,
    manifest: { roomName: 'room', recordingAt: t0, quality: null },
    sidecars: { recordingAt: t0, pauses: [{ pausedAt: at(1), resumedAt: at(2) }], markers: [{ label: 'Q&A = #1', at: at(3.5) }], timelinePath: null, chat: false, audioShiftMs: 0 },
  });
  const file = path.join(storeDir, result.video.key);
  expect(chapters(file)).toEqual([
    ['Start', 0],
    ['Resumed', 1],
    ['Q&A = #1', 2.5],
  ]);
  const manifest = JSON.parse(fs.readFileSync(path.join(storeDir, result.manifest!.key), 'utf8'));
  expect(manifest.chapters).toEqual([
    { title: 'Start', kind: 'start', startMs: 0, endMs: 1000 },
    { title: 'Resumed', kind: 'resume', startMs: 1000, endMs: 2500 },
    { title: 'Q&A = #1', kind: 'marker', startMs: 2500, endMs: expect.any(Number) },
  ]);
  // the last one ends with the file (as probed before the chapters were written: a few ms apart)
  expect(Math.abs(manifest.chapters[2].endMs - result.durationMs)).toBeLessThan(50);
  expect(manifest.pauses).toEqual([{ pausedAt: at(1).toISOString(), resumedAt: at(2).toISOString(), atMs: 1000 }]);
  // and chapters.json beside it, a sidecar listed in the manifest
  const sidecar = result.sidecars.find((s) => s.kind === 'chapters.json')!;
  expect(JSON.parse(fs.readFileSync(path.join(storeDir, sidecar.key), 'utf8')).map((c: { title: string; startMs: number }) => [c.title, c.startMs])).toEqual([
    ['Start', 0],
    ['Resumed', 1000],
    ['Q&A = #1', 2500],
  ]);
  expect(manifest.files).toContainEqual({ kind: 'chapters.json', key: sidecar.key, size: sidecar.size, contentType: 'application/json' });
  // the streams are the recording's, copied: still playable, MP4's index first
  expect(Math.abs(result.durationMs - 4000)).toBeLessThan(200);
  if (format === 'mp4') expect(fs.readFileSync(file).indexOf('moov')).toBeLessThan(fs.readFileSync(file).indexOf('mdat'));
  if (format === 'mp4' || format === 'mkv') expect(result.thumbnails.length).toBe(5);
}, 60000);

test('no pause and no marker: no chapters, and no extra pass', async () => {
  const p = new PostProcessor({ storage, workDir: path.join(tmp, 'work'), prefix: 'rec/' });
  const result = await p.process({ recordingId: 'rec-plain', callId: 'call-1', inputPath: mkv, format: 'mkv', manifest: { roomName: 'room', recordingAt: t0, quality: null },
    sidecars: { recordingAt: t0, pauses: [], markers: [], timelinePath: null, chat: false, audioShiftMs: 0 },
  });
  expect(result.sidecars).toEqual([]);
  expect(chapters(path.join(storeDir, result.video.key))).toEqual([]);
  expect(result.conversion.rewritten).toBe(false);
});
