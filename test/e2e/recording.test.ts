import http from 'node:http';
import path from 'node:path';
import WebSocket from 'ws';
import { type Publisher } from '../../src/demo/synthetic-publishers';
import { probe } from '../../src/recorder/probe';
import type { RecordingResult, VideoInput } from '../../src/recordings/contract';
import { firstFrames } from '../helpers/first-frame';
import { audioSamples, colourRegion, frameAt, processAlive, tonePower } from '../helpers/media';
import { fileTime, type RecorderRig, useRecorderRig, recordIn } from '../helpers/recorder-rig';
import { sleep } from '../helpers/recorder-process';

/**
 * The recorder against a real livekit-server (started once for the run) with real
 * Chromium publishers; every check reads the output file itself. Custom layout pages:
 * recording-custom-layouts.test.ts; starting, stopping and faults: recording-lifecycle.test.ts.
 */
const NAME_TILE = '#2b3040';

let dir: string;
let publishers: RecorderRig['publishers'];
let recorder: RecorderRig['recorder'];
const rig = useRecorderRig((r) => ({ dir, publishers, recorder } = r));

const record = recordIn(rig);

describe('recording a room with three publishers', () => {
  const people = [
    { identity: 'red', colour: '#ff0000', tone: 500 },
    { identity: 'green', colour: '#00ff00', tone: 800 },
    { identity: 'blue', colour: '#0000ff', tone: 1300 },
  ];
  let joined: Publisher[] = [];
  let result: RecordingResult & { ffmpegPid?: number };

  beforeAll(async () => {
    for (const p of people) joined.push(await publishers.add({ room: 'three', ...p }));
    await sleep(2000);
    result = await record('three', 'mp4', 10, () => sleep(2000));
  }, 90000);
  afterAll(() => Promise.all(joined.map((p) => p.leave())));

  it('is one H.264 1280x720 stream and one audio stream, as long as the recording, at 29+ fps', async () => {
    const info = await probe('ffprobe', result.path, { countFrames: true });
    const video = info.streams.filter((s) => s.type === 'video');
    const audio = info.streams.filter((s) => s.type === 'audio');
    expect(video).toHaveLength(1);
    expect(audio).toHaveLength(1);
    expect(video[0]).toMatchObject({ codec: 'h264', width: 1280, height: 720 });
    const wallMs = result.endedAt.getTime() - result.startedAt.getTime();
    expect(Math.abs(info.durationMs - wallMs)).toBeLessThan(500);
    expect(video[0].fps).toBeGreaterThanOrEqual(29);
    expect(result.size).toBeGreaterThan(10000);
  });

  it('shows every publisher from the first frame, each in a tile of its own throughout', async () => {
    // the encoder starts once everyone present is on the canvas: the file opens with them
    const opening = await firstFrames(result.path, people.map((p) => p.colour), { seconds: 2 });
    // the first frame (pts rounding aside: less than one frame period)
    expect({ firstFrameShowsAll: opening.allVisibleAfter !== null && opening.allVisibleAfter < 0.02, frames: opening.frames > 30 }).toEqual({ firstFrameShowsAll: true, frames: true });
    for (const t of [0.5, 5, 9.5]) {
      const frame = await frameAt(result.path, t);
      const regions = people.map((p) => colourRegion(frame, p.colour));
      const missing = people.filter((_, i) => regions[i].share <= 0.08).map((p) => p.identity);
      expect({ t, missing }).toEqual({ t, missing: [] });
      // three distinct tiles: no two colour centres close together
      for (let i = 0; i < 3; i++)
        for (let j = i + 1; j < 3; j++) expect(Math.hypot(regions[i].cx - regions[j].cx, regions[i].cy - regions[j].cy)).toBeGreaterThan(0.2);
    }
  });

  it('carries every publisher tone in the mixed audio', async () => {
    const samples = await audioSamples(result.path, 0.1, 6);
    const floor = Math.max(...[650, 1000, 1700].map((hz) => tonePower(samples, hz)));
    for (const p of people) expect(tonePower(samples, p.tone)).toBeGreaterThan(floor * 100);
  });

  it('leaves no page, socket or FFmpeg process behind', async () => {
    expect(await recorder.pool.openPages()).toBe(0);
    expect(recorder.ingest.openSockets).toBe(0);
    expect(recorder.activeCount).toBe(0);
    expect(result.ffmpegPid).toBeDefined();
    expect(processAlive(result.ffmpegPid)).toBe(false);
  });
});

describe('simulcast layers', () => {
  it('each tile receives the layer that fits it: the stage a large one, a strip tile a small one, never always the top', async () => {
    // Both publish 1280x720 in three layers (320x180, 640x360, 1280x720). 'stage' is the
    // only one with sound, so the speaker layout keeps it on the stage (about 1000x560)
    // and 'strip' in the strip (about 230x130).
    const stage = await publishers.add({ room: 'layers', identity: 'stage', colour: '#ffff00', tone: 600, simulcast: true, width: 1280, height: 720 });
    const strip = await publishers.add({ room: 'layers', identity: 'strip', colour: '#00ffff', tone: 0, simulcast: true, width: 1280, height: 720 });
    const live = await recorder.start({
      id: `layers-${Date.now()}`,
      roomName: 'layers',
      outputPath: path.join(dir, 'layers.mkv'),
      options: { width: 1280, height: 720, fps: 30, format: 'mkv', layout: 'speaker' },
    });
    let result: RecordingResult;
    try {
      const input = (identity: string) => live.progress().videoInputs.find((v) => v.identity === identity);
      const fits = (s?: VideoInput, t?: VideoInput) => !!s && !!t && s.width >= 640 && t.width > 0 && t.width <= 320;
      const deadline = Date.now() + 25_000;
      let seen = '';
      let reached = false;
      while (Date.now() < deadline && !reached) {
        const [s, t] = [input('stage'), input('strip')];
        seen = JSON.stringify([s, t]);
        reached = fits(s, t);
        if (!reached) await sleep(500);
      }
      expect({ seen, reached }).toEqual({ seen, reached: true });
      // A few seconds of the settled picture for the frame check below. The recorder keeps
      // asking for the stage's size and the strip's: the layer the SFU then sends may step
      // down while its congestion control backs off on a busy machine (that is the SFU's
      // call), but a small tile never pulls a layer above the one that fits it.
      for (let i = 0; i < 6; i++) {
        await sleep(500);
        const [s, t] = [input('stage')!, input('strip')!];
        seen = JSON.stringify([s, t]);
        expect({ seen, stageTile: s?.tileWidth > 640, stripTile: t?.tileWidth < 320, stripLayer: t?.width <= 320 })
          .toEqual({ seen, stageTile: true, stripTile: true, stripLayer: true });
      }
    } finally {
      result = await live.stop();
      await Promise.all([stage.leave(), strip.leave()]);
    }
    // and the picture is what it says: yellow fills the stage, cyan a small tile
    const frame = await frameAt(result.path, result.durationMs / 1000 - 1);
    expect(colourRegion(frame, '#ffff00').share).toBeGreaterThan(0.4);
    const cyan = colourRegion(frame, '#00ffff');
    expect(cyan.share).toBeGreaterThan(0.01);
    expect(cyan.share).toBeLessThan(0.1);
  }, 90000);
});

describe('speaker layout', () => {
  it('puts someone already talking when the recording starts on the stage from the first second', async () => {
    // 'quiet' joined first, the stage's pick while nobody speaks; 'talker' talks throughout, so
    // the server names no new speaker after the recorder joins
    const quiet = await publishers.add({ room: 'talking', identity: 'quiet', colour: '#ff00ff', tone: 0 });
    const talker = await publishers.add({ room: 'talking', identity: 'talker', colour: '#00ff00', tone: 700 });
    await sleep(3000);
    let result: RecordingResult;
    try {
      const live = await recorder.start({
        id: `talking-${Date.now()}`,
        roomName: 'talking',
        outputPath: path.join(dir, 'talking.mkv'),
        options: { width: 1280, height: 720, fps: 30, format: 'mkv', layout: 'speaker' },
      });
      await sleep(4000);
      result = await live.stop();
    } finally {
      await Promise.all([quiet.leave(), talker.leave()]);
    }
    for (const t of [0.5, 1, 3]) {
      const frame = await frameAt(result.path, t);
      const [talking, silent] = [colourRegion(frame, '#00ff00').share, colourRegion(frame, '#ff00ff').share];
      expect({ t, talkerOnStage: talking > 0.4, quietInStrip: silent > 0.01 && silent < 0.1 }).toEqual({ t, talkerOnStage: true, quietInStrip: true });
    }
  }, 60000);
});

describe('participants coming, going and muting', () => {
  it('shows a late joiner, drops a leaver and draws a name tile for a muted camera (MKV)', async () => {
    const yellow = await publishers.add({ room: 'dyn', identity: 'yellow', name: 'Yolanda', colour: '#ffff00', tone: 600 });
    const magenta = await publishers.add({ room: 'dyn', identity: 'magenta', colour: '#ff00ff', tone: 900 });
    await sleep(1500);
    const marks: Record<string, number> = {};
    let cyan: Publisher | undefined;
    // each change waits for the previous one to be visible, whatever the machine's speed
    const result = await record('dyn', 'mkv', 0, async () => {
      await sleep(4000);
      marks.joining = Date.now();
      cyan = await publishers.add({ room: 'dyn', identity: 'cyan', colour: '#00ffff', tone: 1100 });
      await sleep(2500);
      marks.muting = Date.now();
      await yellow.setCameraMuted(true);
      await sleep(2500);
      marks.leaving = Date.now();
      await magenta.leave();
      await sleep(2500);
    });
    await cyan?.leave();
    await yellow.leave();

    const info = await probe('ffprobe', result.path);
    expect(info.format).toContain('matroska');
    expect(info.streams.map((s) => s.type).sort()).toEqual(['audio', 'video']);

    const share = async (t: number, colour: string) => colourRegion(await frameAt(result.path, t), colour).share;
    // before the late joiner: two tiles, no cyan
    const before = fileTime(result, marks.joining) - 0.3;
    expect(await share(before, '#00ffff')).toBe(0);
    expect(await share(before, '#ffff00')).toBeGreaterThan(0.08);
    // after: cyan has a tile
    expect(await share(fileTime(result, marks.muting) - 0.3, '#00ffff')).toBeGreaterThan(0.05);
    // muted camera: yellow gone, a name tile instead
    const afterMute = fileTime(result, marks.leaving) - 0.3;
    expect(await share(afterMute, '#ffff00')).toBe(0);
    expect(await share(afterMute, NAME_TILE)).toBeGreaterThan(0.05);
    // the leaver's tile disappears
    const end = (result.endedAt.getTime() - result.startedAt.getTime()) / 1000 - 0.5;
    expect(await share(end, '#ff00ff')).toBe(0);
    expect(await share(end, '#00ffff')).toBeGreaterThan(0.05);
  }, 90000);
});

describe('screen share', () => {
  it('puts a shared screen on the stage and the cameras in a strip', async () => {
    const a = await publishers.add({ room: 'share', identity: 'navy', colour: '#000080', tone: 560 });
    const b = await publishers.add({ room: 'share', identity: 'olive', colour: '#808000', tone: 940 });
    await sleep(1000);
    let sharedAt = 0;
    const result = await record('share', 'mp4', 0, async () => {
      await sleep(3000);
      await a.shareScreen('#ff6060');
      sharedAt = Date.now();
      await sleep(4000);
    });
    await a.leave();
    await b.leave();
    const before = await frameAt(result.path, fileTime(result, sharedAt) - 0.5);
    expect(colourRegion(before, '#ff6060').share).toBe(0);
    const after = await frameAt(result.path, fileTime(result, sharedAt) + 3);
    const stage = colourRegion(after, '#ff6060');
    expect(stage.share).toBeGreaterThan(0.4);
    for (const cam of ['#000080', '#808000']) {
      const r = colourRegion(after, cam);
      expect(r.share).toBeGreaterThan(0.005);
      expect(r.share).toBeLessThan(0.1);
      expect(r.cx).toBeGreaterThan(0.75);
    }
  }, 60000);
});

describe('WebM output and the ingest secret', () => {
  it('records VP8+Opus WebM, and refuses ingest connections without the right secret', async () => {
    const pub = await publishers.add({ room: 'webm', identity: 'orange', colour: '#ff8800', tone: 700 });
    await sleep(1000);
    let refusals: number[] = [];
    const result = await record('webm', 'webm', 7, async () => {
      const base = recorder.ingest.httpOrigin.replace(/^http/, 'ws');
      const tryConnect = (url: string) =>
        new Promise<number>((resolve) => {
          const ws = new WebSocket(url);
          ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          ws.on('open', () => {
            ws.close();
            resolve(101);
          });
          ws.on('error', () => resolve(-1));
        });
      const [id] = recorder.activeIds();
      refusals = await Promise.all([
        tryConnect(`${base}/ingest/${id}`),
        tryConnect(`${base}/ingest/${id}?secret=${'00'.repeat(24)}`),
        tryConnect(`${base}/ingest/no-such-recording?secret=${'00'.repeat(24)}`),
      ]);
    });
    await pub.leave();
    expect(refusals).toEqual([401, 401, 401]);
    const info = await probe('ffprobe', result.path, { countFrames: true });
    expect(info.format).toContain('webm');
    const video = info.streams.find((s) => s.type === 'video')!;
    expect(video).toMatchObject({ codec: 'vp8', width: 1280, height: 720 });
    expect(info.streams.find((s) => s.type === 'audio')?.codec).toBe('opus');
    expect(colourRegion(await frameAt(result.path, 6), '#ff8800').share).toBeGreaterThan(0.2);
  }, 60000);
});
