import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { probe } from '../../src/recorder/probe';
import { Recorder } from '../../src/recorder/recorder';
import { parseStartOptions, resolveRecordingOptions, type StartOptions } from '../../src/recordings/options';
import { THEMES } from '../../recorder-page/src/layouts';
import { colourRegion, frameAt, FRAME_H, FRAME_W, hexToRgb, type ColourRegion } from '../helpers/media';

/**
 * Every built-in layout and both themes, recorded from a real room (livekit-server, Chromium
 * publishers) through the start request's option rules, checked on the files' pixels: where
 * each camera's colour is, where the share is, the background's colour. Short recordings
 * (3 s each) from one room and one Recorder, to keep the suite's time down.
 */
const livekit = { url: process.env.TEST_LIVEKIT_URL!, apiKey: process.env.TEST_LIVEKIT_API_KEY!, apiSecret: process.env.TEST_LIVEKIT_API_SECRET! };
const config = loadConfig({});
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Who is on the stage is the layout functions' business (unit tests) and the page's speaker
// detection's (recording.test.ts, 'speaker layout'): here, whoever it is, the stage holds one
// camera and the strip the others.
const PEOPLE = [
  { identity: 'red', colour: '#ff0000', tone: 500 },
  { identity: 'green', colour: '#00ff00', tone: 0 },
  { identity: 'blue', colour: '#0000ff', tone: 0 },
];
const SCREEN = '#ffff00';
const ROOM = 'layouts';

let dir: string;
let publishers: SyntheticPublishers;
let recorder: Recorder;
let joined: Publisher[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-layouts-'));
  publishers = await SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit });
  recorder = await Recorder.create({ ...config.recorder, warmBrowsers: 1, spoolDir: path.join(dir, 'spool') }, livekit);
  for (const p of PEOPLE) joined.push(await publishers.add({ room: ROOM, ...p }));
  await sleep(1500);
}, 60000);

afterAll(async () => {
  await Promise.all(joined.map((p) => p.leave()));
  await recorder?.close();
  await publishers?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** Records 3 s of the room as `start` asks (the API's rules), and returns a frame from its middle with the file. */
async function recordFrame(name: string, start: StartOptions): Promise<{ frame: Buffer; file: string }> {
  const { options } = resolveRecordingOptions(parseStartOptions({ format: 'mkv', ...start }), { maxDurationSeconds: 60 });
  const live = await recorder.start({ id: `${name}-${Date.now()}`, roomName: ROOM, outputPath: path.join(dir, `${name}.mkv`), options });
  await sleep(3000);
  const result = await live.stop();
  return { frame: await frameAt(result.path, Math.min(2, result.durationMs / 1000 - 0.5)), file: result.path };
}

const regions = (frame: Buffer) => Object.fromEntries([...PEOPLE.map((p) => [p.identity, colourRegion(frame, p.colour)]), ['screen', colourRegion(frame, SCREEN)]]) as Record<string, ColourRegion>;

/** The median colour of the frame's top row: the gap above the tiles, in every layout. */
function corner(frame: Buffer): [number, number, number] {
  const median = (c: number) => Array.from({ length: FRAME_W }, (_, x) => frame[x * 3 + c]).sort((a, b) => a - b)[FRAME_W >> 1];
  return [median(0), median(1), median(2)];
}
function near(rgb: [number, number, number], hex: string, tolerance = 40): boolean {
  const want = hexToRgb(hex);
  return rgb.reduce((d, v, i) => d + Math.abs(v - want[i]), 0) <= tolerance;
}
const summary = (r: Record<string, ColourRegion>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { share: +v.share.toFixed(3), cx: +v.cx.toFixed(2), cy: +v.cy.toFixed(2) }]));

describe('layouts and themes on recorded files', () => {
  it('grid (dark, the default): three equal tiles on the dark background', async () => {
    const { frame } = await recordFrame('grid', { layout: 'grid' });
    const r = regions(frame);
    const shares = PEOPLE.map((p) => r[p.identity].share);
    expect({ r: summary(r), equal: Math.max(...shares) - Math.min(...shares) < 0.03, big: Math.min(...shares) > 0.12 }).toEqual({ r: summary(r), equal: true, big: true });
    for (let i = 0; i < 3; i++)
      for (let j = i + 1; j < 3; j++) expect(Math.hypot(r[PEOPLE[i].identity].cx - r[PEOPLE[j].identity].cx, r[PEOPLE[i].identity].cy - r[PEOPLE[j].identity].cy)).toBeGreaterThan(0.2);
    expect(near(corner(frame), THEMES.dark.background)).toBe(true);
  }, 30000);

  it('speaker-light: one camera on the stage, the others in a strip on the right, on the light background', async () => {
    const { frame } = await recordFrame('speaker-light', { layout: 'speaker-light' });
    const r = regions(frame);
    const [stage, ...strip] = PEOPLE.map((p) => p.identity).sort((a, b) => r[b].share - r[a].share);
    expect({ r: summary(r), stage: r[stage].share > 0.4 }).toEqual({ r: summary(r), stage: true });
    for (const id of strip) expect({ id, small: r[id].share > 0.01 && r[id].share < 0.08, right: r[id].cx > 0.8 }).toEqual({ id, small: true, right: true });
    expect(near(corner(frame), THEMES.light.background)).toBe(true);
  }, 30000);

  it('single (single-speaker) with the theme field: one camera only', async () => {
    const { frame } = await recordFrame('single', { layout: 'single', theme: 'light' });
    const r = regions(frame);
    const shares = PEOPLE.map((p) => r[p.identity].share).sort((a, b) => b - a);
    expect({ r: summary(r), one: shares[0] > 0.6, others: shares.slice(1) }).toEqual({ r: summary(r), one: true, others: [0, 0] });
    expect(near(corner(frame), THEMES.light.background)).toBe(true);
  }, 30000);

  it('presentation without a share: one camera on the stage, the others in a row beneath', async () => {
    const { frame } = await recordFrame('presentation', { layout: 'presentation' });
    const r = regions(frame);
    const [stage, ...strip] = PEOPLE.map((p) => p.identity).sort((a, b) => r[b].share - r[a].share);
    expect({ r: summary(r), stage: r[stage].share > 0.4 }).toEqual({ r: summary(r), stage: true });
    for (const id of strip) expect({ id, below: r[id].cy > 0.85, small: r[id].share < 0.05 }).toEqual({ id, below: true, small: true });
    expect(near(corner(frame), THEMES.dark.background)).toBe(true);
  }, 30000);

  describe('while red shares a screen', () => {
    beforeAll(async () => {
      await joined[0].shareScreen(SCREEN);
      await sleep(1000);
    });
    afterAll(() => joined[0].stopScreenShare());

    it('grid-light becomes the speaker layout: the share on the stage, every camera in the strip', async () => {
      const { frame } = await recordFrame('grid-share', { layout: 'grid-light' });
      const r = regions(frame);
      expect(r.screen.share).toBeGreaterThan(0.4);
      expect(r.screen.cx).toBeLessThan(0.45);
      for (const p of PEOPLE) expect({ id: p.identity, strip: r[p.identity].cx > 0.8 && r[p.identity].share > 0.01 }).toEqual({ id: p.identity, strip: true });
      expect(near(corner(frame), THEMES.light.background)).toBe(true);
    }, 30000);

    it('presentation-dark: the share on a wide stage, the cameras in a row beneath', async () => {
      const { frame } = await recordFrame('presentation-share', { layout: 'presentation-dark' });
      const r = regions(frame);
      expect({ r: summary(r), wide: r.screen.share > 0.5, top: r.screen.cy < 0.5 }).toEqual({ r: summary(r), wide: true, top: true });
      const row = PEOPLE.map((p) => r[p.identity]);
      for (const c of row) expect({ r: summary(r), below: c.cy > 0.85 }).toEqual({ r: summary(r), below: true });
      for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) expect(Math.abs(row[i].cx - row[j].cx)).toBeGreaterThan(0.08);
    }, 30000);

    it('portrait presentation-light at 720x1280: a portrait file, the share on top, the cameras below it', async () => {
      const { frame, file } = await recordFrame('portrait', { layout: 'presentation-light', resolution: '720p-portrait' });
      const info = await probe('ffprobe', file);
      expect(info.streams.find((s) => s.type === 'video')).toMatchObject({ width: 720, height: 1280 });
      const r = regions(frame);
      expect({ r: summary(r), share: r.screen.share > 0.2, top: r.screen.cy < 0.25 }).toEqual({ r: summary(r), share: true, top: true });
      for (const p of PEOPLE) expect({ r: summary(r), id: p.identity, below: r[p.identity].cy > r.screen.cy + 0.2 }).toEqual({ r: summary(r), id: p.identity, below: true });
      // the share reaches the top row here: the background shows beside the cameras
      expect(colourRegion(frame, THEMES.light.background, 30).share).toBeGreaterThan(0.1);
      // frames are scaled to FRAME_W x FRAME_H whatever the file's shape: positions are fractions
      expect(frame.length).toBe(FRAME_W * FRAME_H * 3);
    }, 30000);
  });
});
