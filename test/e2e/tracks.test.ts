import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { audioSamples, colourRegion, frameAt, tonePower } from '../helpers/media';
import { startTestService, testLivekit, type TestService } from '../helpers/in-process-service';
import { sleep, waitFor } from '../helpers/recorder-process';
import { untilAdmitted } from '../helpers/api-request';

/**
 * Per-participant tracks (start option `tracks: "audio+video"`) on the real recorder, checked on
 * the stored files of one short recording: red's tone goes on mid-call, green joins late and its
 * tone goes on a second later (a track's recorder may start a little after the mix first hears
 * its participant, so a tone on from the join could begin before the track), the recording
 * pauses (every track's segment ends there, the next begins at the seam), and blue's tone goes
 * on after the resume. Each audio track carries its
 * own tone only, each camera its own colour, and each track's offset in the manifest lines its
 * tone's onset up with the composite's within 50 ms.
 */
const RED = { identity: 'red', name: 'Red', colour: '#ff0000', tone: 500, silent: true };
const BLUE = { identity: 'blue', name: 'Blue', colour: '#0000ff', tone: 1200, silent: true };
const GREEN = { identity: 'green', name: 'Green', colour: '#00ff00', tone: 800, silent: true };
const PEOPLE = [RED, BLUE, GREEN];
const ALIGN_MS = 50;
const config = loadConfig({});
const run = promisify(execFile);

interface TrackEntry {
  kind: 'track';
  media: 'audio' | 'video';
  identity: string;
  name: string;
  key: string;
  size: number;
  contentType: string;
  codec: string;
  offsetMs: number;
  offsetFrom: 'audio' | 'resume-audio' | 'page-clock';
  durationMs: number;
}

let publishers: SyntheticPublishers;
let svc: TestService;
const joined: Publisher[] = [];
let view: any;
let manifest: any;
let tracks: TrackEntry[];
let composite: string;
/** When each tone went on (wall clock), and the recording's time 0. */
const toneOn: Record<string, number> = {};
let recordingAt = 0;
const fileOf = (t: TrackEntry) => path.join(svc.dir, t.key);
/** One participant's segments of one medium, in order. */
const segmentsOf = (identity: string, media: 'audio' | 'video') => tracks.filter((t) => t.identity === identity && t.media === media).sort((a, b) => a.offsetMs - b.offsetMs);

beforeAll(async () => {
  [publishers, svc] = await Promise.all([SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit: testLivekit }), startTestService('tracks')]);
  const room = 'room-tracks';
  for (const p of [RED, BLUE]) joined.push(await publishers.add({ ...p, room }));
  await sleep(1500);
  expect((await svc.api('POST', '/api/video-calls', { id: 'tracks', roomName: room, hostId: 'host-1', participantIds: [] })).status).toBe(201);
  const start = await untilAdmitted(() => svc.api('POST', '/api/video-calls/tracks/recording/start', { tracks: 'audio+video' }));
  expect(start.status).toBe(201);
  const id = start.body.data.id as string;
  recordingAt = await waitFor(async () => {
    const r = (await svc.api('GET', `/api/video-calls/tracks/recording/${id}`)).body.data;
    return r.status === 'RECORDING' ? Date.parse(r.recordingAt) : null;
  }, 30000, 'RECORDING');
  const [red, blue] = joined;
  await sleep(1000);
  toneOn.red = await red.setTone(true);
  await sleep(500);
  const green = await publishers.add({ ...GREEN, room: 'room-tracks' });
  joined.push(green);
  // green's first segment, from its subscription to the pause, long enough to find its tone in
  await sleep(1000);
  toneOn.green = await green.setTone(true);
  await sleep(1500);
  expect((await svc.api('POST', '/api/video-calls/tracks/recording/pause')).status).toBe(200);
  await sleep(1500);
  expect((await svc.api('POST', '/api/video-calls/tracks/recording/resume', {})).status).toBe(200);
  await sleep(800);
  toneOn.blue = await blue.setTone(true);
  await sleep(1500);
  await svc.api('POST', '/api/video-calls/tracks/recording/stop');
  view = await waitFor(async () => {
    const r = (await svc.api('GET', `/api/video-calls/tracks/recording/${id}`)).body.data;
    if (r.status === 'FAILED') throw new Error(`FAILED: ${JSON.stringify(r.error)}`);
    return r.status === 'COMPLETED' ? r : null;
  }, 60000, 'COMPLETED');
  manifest = JSON.parse(await (await fetch(view.manifest.url.startsWith('/') ? svc.base + view.manifest.url : view.manifest.url)).text());
  tracks = manifest.files.filter((f: { kind: string }) => f.kind === 'track');
  composite = path.join(os.tmpdir(), `tracks-${id}.mp4`);
  fs.writeFileSync(composite, Buffer.from(await (await svc.fetchAsHost(`/api/video-calls/tracks/recording/${id}/download`)).arrayBuffer()));
}, 150000);

afterAll(async () => {
  await Promise.all(joined.map((p) => p.leave().catch(() => undefined)));
  await publishers?.close();
  await svc?.close();
  if (composite) fs.rmSync(composite, { force: true });
});

test('the manifest lists the audio and camera of each participant in two segments around the pause, stored under tracks/, listed in the view', () => {
  console.log(`tracks: ${JSON.stringify(tracks.map((t) => [t.identity, t.media, t.codec, t.offsetMs, t.offsetFrom, t.durationMs]))}, composite ${view.durationMs} ms, paused ${view.pausedMs} ms`);
  for (const t of tracks) {
    expect(t.key).toMatch(new RegExp(`^tracks/${view.id}/tracks/\\d+-${t.media}-${t.identity}\\.(ogg|mp4|webm)$`));
    expect(fs.statSync(fileOf(t)).size).toBe(t.size);
    expect(t.name).toBe(PEOPLE.find((p) => p.identity === t.identity)!.name);
  }
  expect(view.tracks.map((t: { key: string }) => t.key).sort()).toEqual(tracks.map((t) => t.key).sort());
  for (const t of view.tracks) expect(t.url).toEqual(expect.any(String));
  for (const p of PEOPLE) {
    for (const media of ['audio', 'video'] as const) {
      const [before, after, ...more] = segmentsOf(p.identity, media);
      expect(more).toEqual([]);
      // red and blue were there at time 0 (audio moved as the composite's is, by RECORDER_AV_OFFSET_MS), green came later
      if (p === GREEN) expect(before.offsetMs).toBeGreaterThan(1000);
      else expect(before.offsetMs).toBeGreaterThanOrEqual(-config.recorder.avOffsetMs - 50);
      if (p !== GREEN) expect(before.offsetMs).toBeLessThan(100);
      // the segment after the pause begins at the seam, where the first ended, and ends with the file.
      // On a loaded page the composite's encoder cut the pause up to ~300 ms before the tracks'
      // recorders stopped: post-processing cuts each segment at the composite's seam, so none
      // holds media of the pause (track-cuts.ts). A camera after the pause is placed by the page's
      // count of it, seen up to 520 ms wrong: held to the order of the segments.
      const seamMs = manifest.pauses[0].atMs as number;
      const ends = { identity: p.identity, media, seamMs, endMs: before.offsetMs + before.durationMs };
      // a camera's last frame lasts until the next would have come: up to two frames at 30 fps
      expect({ ...ends, endsBy: ends.endMs - seamMs <= (media === 'video' ? 70 : 30) }).toEqual({ ...ends, endsBy: true });
      if (media === 'audio') {
        expect(Math.abs(after.offsetMs - (before.offsetMs + before.durationMs))).toBeLessThan(500);
        expect(Math.abs(after.offsetMs + after.durationMs - view.durationMs)).toBeLessThan(400);
      } else {
        expect(after.offsetMs).toBeGreaterThan(before.offsetMs + before.durationMs - 300);
        expect(after.offsetMs + after.durationMs).toBeLessThan(view.durationMs + 600);
      }
    }
  }
});

test('ffprobe: Opus audio, H.264 or VP8 video, one stream each, the duration the manifest says', async () => {
  for (const t of tracks) {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', fileOf(t)]);
    const info = JSON.parse(stdout);
    expect(info.streams).toHaveLength(1);
    expect(info.streams[0].codec_type).toBe(t.media);
    expect(info.streams[0].codec_name).toBe(t.media === 'audio' ? 'opus' : t.codec);
    if (t.media === 'video') expect(['h264', 'vp8']).toContain(t.codec);
    const seconds = Number(info.format.duration);
    expect(Math.abs(seconds * 1000 - t.durationMs)).toBeLessThan(50);
    expect(t.durationMs).toBeGreaterThan(300);
  }
});

test("each audio track carries its own tone only, each camera its own colour", async () => {
  for (const p of PEOPLE) {
    const t = segmentsOf(p.identity, 'audio').at(-1)!;
    const samples = await audioSamples(fileOf(t), t.durationMs / 1000 - 1, 0.5);
    const own = tonePower(samples, p.tone);
    for (const other of PEOPLE.filter((o) => o !== p)) expect(tonePower(samples, other.tone)).toBeLessThan(own / 100);
    for (const v of segmentsOf(p.identity, 'video')) expect(colourRegion(await frameAt(fileOf(v), v.durationMs / 2000), p.colour).share).toBeGreaterThan(0.8);
  }
});

test('each offset lines the tone onset up with the composite within 50 ms (a tone switched on, a late joiner, a tone after the resume)', async () => {
  const compositeSamples = await audioSamples(composite, 0, view.durationMs / 1000 + 1);
  const diffs: Record<string, number> = {};
  const measuredBy: Record<string, string> = {};
  for (const p of PEOPLE) {
    const inComposite = onsetMs(compositeSamples, p.tone, view.durationMs);
    // the segment the onset is in: the first (red, green) or the one after the resume (blue);
    // a late joiner's segment may begin a few ms after the composite first hears it
    const t = segmentsOf(p.identity, 'audio').filter((s) => s.offsetMs <= inComposite + ALIGN_MS).at(-1);
    if (!t) throw new Error(`${p.identity} heard in the composite at ${inComposite} ms, before each of its segments: ${JSON.stringify(segmentsOf(p.identity, 'audio'))}`);
    const inTrack = onsetMs(await audioSamples(fileOf(t), 0, t.durationMs / 1000 + 1), p.tone, t.durationMs);
    diffs[p.identity] = Math.round(t.offsetMs + inTrack - inComposite);
    measuredBy[p.identity] = t.offsetFrom;
    const wall = toneOn[p.identity] - recordingAt - (p === BLUE ? view.pausedMs : 0);
    console.log(`${p.identity}: tone on at ${wall} ms (wall, on the file clock); heard in the composite at ${inComposite}, in the track at ${inTrack} + ${t.offsetMs}`);
  }
  console.log(`track onset + offset vs the composite's (ms): ${JSON.stringify(diffs)}`);
  // how each was found: from the sound (postprocess/track-alignment.ts) or, where the sound was not clear
  // enough to say, the page's clock; either way it must line up
  console.log(`offsets found by: ${JSON.stringify(measuredBy)}`);
  for (const d of Object.values(diffs)) expect(Math.abs(d)).toBeLessThanOrEqual(ALIGN_MS);
});

/** Where a tone begins: the first of three 20 ms windows in a row (5 ms steps) with a tenth of its loudest window's power. */
function onsetMs(samples: Float32Array, hz: number, durationMs: number): number {
  const rate = 16000;
  const win = rate / 50;
  const end = Math.min(durationMs, ((samples.length - win) / rate) * 1000);
  const power = (ms: number) => tonePower(samples.subarray(Math.round((ms / 1000) * rate), Math.round((ms / 1000) * rate) + win), hz, rate);
  let steady = 0;
  for (let t = 0; t < end; t += 20) steady = Math.max(steady, power(t));
  for (let t = 0; t < end - 40; t += 5) if ([0, 20, 40].every((d) => power(t + d) >= steady / 10)) return t;
  throw new Error(`no ${hz} Hz tone in ${samples.length} samples (${durationMs} ms), loudest window ${steady}`);
}
