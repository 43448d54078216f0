import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { LAYOUT_RULE, THEMES } from '../../recorder-page/src/layouts';
import type { PreviewRequest } from '../../recorder-page/src/preview-scene';
import { parseStartOptions, resolveRecordingOptions } from '../../src/recordings/options';
import { closeColours, expectedPixels } from '../helpers/layout-pixels';

/**
 * `recorder preview-layout` as an operator runs it (the built command): a PNG of the right
 * size whose pixels show each synthetic participant where the layout function puts them,
 * drawn by the recorder page's compositor in the theme's colours; bad input refused with
 * the API's code and rule before any browser starts.
 */
const BIN = path.join(__dirname, '..', '..', 'bin', 'recorder');
const run = promisify(execFile);

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-preview-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'preview-layout', ...args], { env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The PNG's size from its header, and its pixels decoded at that size (RGB). */
async function decode(file: string): Promise<{ width: number; height: number; rgb: Buffer }> {
  const png = await fs.readFile(file);
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 26 });
  return { width, height, rgb: stdout };
}

function pixel(img: { width: number; rgb: Buffer }, x: number, y: number): string {
  const i = (Math.round(y) * img.width + Math.round(x)) * 3;
  return `#${[img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}
const close = closeColours;

const CASES: { args: string[]; request: PreviewRequest }[] = [
  { args: ['--layout', 'grid', '--participants', '4', '--camera-off', '3'], request: { width: 1280, height: 720, layout: 'grid', theme: 'dark', participants: 4, cameraOff: 3 } },
  {
    args: ['--layout', 'speaker-light', '--participants', '3', '--speaking', '2'],
    request: { width: 1280, height: 720, layout: 'speaker', theme: 'light', participants: 3, speaking: 2 },
  },
  {
    args: ['--layout', 'presentation', '--theme', 'light', '--participants', '5', '--screen-share', '--width', '1080', '--height', '1920'],
    request: { width: 1080, height: 1920, layout: 'presentation', theme: 'light', participants: 5, screenShare: 1 },
  },
  { args: ['--layout', 'single', '--participants', '2', '--speaking', '2'], request: { width: 1280, height: 720, layout: 'single-speaker', theme: 'dark', participants: 2, speaking: 2 } },
];

describe('recorder preview-layout', () => {
  it.each(CASES.map((c) => [c.args.join(' '), c]))('%s: each participant where the layout puts them, in the theme', async (_name, { args, request }) => {
    const out = path.join(dir, `${request.layout}-${request.theme}-${request.width}.png`);
    const r = await cli([...args, '--output', out]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain(out);
    const img = await decode(out);
    expect({ width: img.width, height: img.height }).toEqual({ width: request.width, height: request.height });
    const wrong = expectedPixels(request)
      .map((e) => ({ identity: e.tile.identity, kind: e.tile.kind, want: e.colour, got: pixel(img, e.x, e.y) }))
      .filter((e) => !close(e.got, e.want));
    expect(wrong).toEqual([]);
    // the gap above the tiles is the theme's background
    expect(close(pixel(img, 2, 2), THEMES[request.theme].background)).toBe(true);
  }, 60000);

  it('draws the speaking border in the theme colour', async () => {
    const speaking = CASES[1].request;
    const stage = expectedPixels(speaking)[0].tile;
    const img = await decode(path.join(dir, `speaker-light-1280.png`));
    expect(close(pixel(img, stage.x + 2, stage.y + stage.h / 2), THEMES.light.speakingBorder)).toBe(true);
  });

  it('draws overlays as a recording does', async () => {
    const out = path.join(dir, 'overlays.png');
    const overlays = { background: { colour: '#00c000' }, textWatermark: { text: 'ACME', colour: '#ffff00', size: 0.1, opacity: 1, position: 'bottom-left' }, clock: {} };
    const r = await cli(['--layout', 'grid', '--participants', '2', '--overlays', JSON.stringify(overlays), '--output', out]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const img = await decode(out);
    expect(pixel(img, 640, 700)).toBe('#00c000');
    const yellowAt: number[] = [];
    for (let y = 600; y < 720; y += 2) for (let x = 0; x < 640; x += 2) if (close(pixel(img, x, y), '#ffff00')) yellowAt.push(x);
    expect(yellowAt.length).toBeGreaterThan(50);
    // the clock's band, top left, over the background
    expect(close(pixel(img, 30, 30), '#005600')).toBe(true);
  }, 60000);

  it.each([
    [['--layout', 'mosaic'], { layout: 'mosaic' }, 'layout', '--layout', LAYOUT_RULE],
    [['--width', '4000', '--height', '720'], { width: 4000, height: 720 }, 'width', '--width', 'must be an integer from 120 to 1920'],
    [['--width', '1920', '--height', '1920'], { width: 1920, height: 1920 }, 'width x height', '--width x --height', 'must be at most 2073600 pixels'],
    [['--layout', 'grid-light', '--theme', 'dark'], { layout: 'grid-light', theme: 'dark' }, 'layout grid-light', '--layout grid-light', 'is light but'],
    [['--theme', 'sepia'], { theme: 'sepia' }, 'theme', '--theme', 'must be one of dark, light'],
  ] as const)("refuses %j with the API's code and rule", async (args, body, apiField, flag, rule) => {
    // the domain's refusal of the same start body, as the API gives it
    expect(() => resolveRecordingOptions(parseStartOptions(body), { maxDurationSeconds: 60 })).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_OPTION', message: expect.stringContaining(`${apiField} ${rule}`) }),
    );
    const r = await cli([...args, '--output', path.join(dir, 'bad.png')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error [UNSUPPORTED_OPTION]: ${flag} ${rule}`);
    await expect(fs.stat(path.join(dir, 'bad.png'))).rejects.toThrow();
  }, 30000);

  it.each([
    [['--participants', '0'], '--participants must be an integer from 1 to 25'],
    [['--participants', '26'], '--participants must be an integer from 1 to 25'],
    [['--participants', '3', '--speaking', '4'], "--speaking must be a participant's number, from 1 to 3"],
    [['--output', path.join(os.tmpdir(), 'x.jpg')], '--output must name a .png file'],
    [['--overlays', '{textWatermark'], '--overlays must be JSON'],
    [['--overlays', '{"sparkles": true}'], '--overlays Unrecognized key'],
  ])('refuses %j', async (args, message) => {
    const r = await cli(args.includes('--output') ? args : [...args, '--output', path.join(dir, 'bad.png')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error [UNSUPPORTED_OPTION]: ${message}`);
  }, 30000);

  it('is in the help', async () => {
    const r = await run(process.execPath, [BIN, '--help']);
    expect(r.stdout).toContain('preview-layout');
  });
});

describe('recorder preview-layout --preset', () => {
  // the embedded database a `recorder all` without DATABASE_URL keeps, with one preset in it; written
  // by the built code in a process of its own (PGlite loads by dynamic import, which Jest's sandbox cannot)
  let env: Record<string, string>;
  beforeAll(async () => {
    const pgliteDir = path.join(dir, 'db');
    const dist = path.join(__dirname, '..', '..', 'dist', 'src', 'db');
    const seed = `
      const { openDatabase } = require(${JSON.stringify(dist)});
      const { PrismaLayoutPresetRepository } = require(${JSON.stringify(path.join(dist, 'preset-repository'))});
      (async () => {
        const db = await openDatabase({ pgliteDir: process.argv[1] });
        try {
          await new PrismaLayoutPresetRepository(db.prisma).create({ name: 'tall', settings: { layout: 'speaker', theme: 'light', width: 720, height: 1280 }, createdBy: null });
        } finally {
          await db.close();
        }
      })();`;
    await run(process.execPath, ['-e', seed, pgliteDir]);
    env = { PGLITE_DIR: pgliteDir };
  }, 30000);

  const check = async (out: string, request: PreviewRequest) => {
    const img = await decode(out);
    expect({ width: img.width, height: img.height }).toEqual({ width: request.width, height: request.height });
    const wrong = expectedPixels(request)
      .map((e) => ({ identity: e.tile.identity, want: e.colour, got: pixel(img, e.x, e.y) }))
      .filter((e) => !close(e.got, e.want));
    expect(wrong).toEqual([]);
    expect(close(pixel(img, 2, 2), THEMES[request.theme].background)).toBe(true);
  };

  it("draws the preset's layout and theme at its size", async () => {
    const out = path.join(dir, 'preset-tall.png');
    const r = await cli(['--preset', 'tall', '--participants', '3', '--speaking', '2', '--output', out], env);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('720x1280 speaker-light (preset tall), 3 participant(s)');
    await check(out, { width: 720, height: 1280, layout: 'speaker', theme: 'light', participants: 3, speaking: 2 });
  }, 60000);

  it('the flags given override it, the size as a whole', async () => {
    const out = path.join(dir, 'preset-override.png');
    const r = await cli(['--preset', 'tall', '--layout', 'grid', '--width', '1280', '--height', '720', '--participants', '4', '--output', out], env);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    await check(out, { width: 1280, height: 720, layout: 'grid', theme: 'light', participants: 4 });
  }, 60000);

  it.each([
    [['--preset', 'nope'], 'PRESET_NOT_FOUND', 'there is no layout preset "nope"'],
    [['--preset', 'Not A Name'], 'VALIDATION_ERROR', '--preset "Not A Name" is not valid'],
  ])('refuses %j', async (args, code, message) => {
    const r = await cli([...args, '--output', path.join(dir, 'bad.png')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error [${code}]: ${message}`);
    await expect(fs.stat(path.join(dir, 'bad.png'))).rejects.toThrow();
  }, 30000);
});

describe('recorder preview-layout --overlays with a preset asset', () => {
  // the local storage a `recorder all` keeps in RECORDING_OUTPUT_DIR, with one preset image in it
  let env: Record<string, string>;
  let store: string;
  beforeAll(async () => {
    store = path.join(dir, 'store');
    await fs.mkdir(path.join(store, '_presets', 'brand'), { recursive: true });
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=0x00ffff:s=128x64', '-frames:v', '1', path.join(store, '_presets', 'brand', 'logo.png')]);
    env = { RECORDING_OUTPUT_DIR: store };
  });
  const watermark = (url: string) => JSON.stringify({ imageWatermark: { url, position: 'center', size: 0.3 } });

  it('draws it, read from the configured storage', async () => {
    const out = path.join(dir, 'asset.png');
    const r = await cli(['--layout', 'grid', '--participants', '1', '--overlays', watermark('asset://brand/logo.png'), '--output', out], env);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const img = await decode(out);
    expect(close(pixel(img, 640, 360), '#00ffff')).toBe(true);
  }, 60000);

  it('says where it looked for one that is not there, before any browser starts', async () => {
    const r = await cli(['--overlays', watermark('asset://brand/gone.png'), '--output', path.join(dir, 'bad.png')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error [OVERLAY_ASSET_NOT_FOUND]: the overlays name asset://brand/gone.png');
    expect(r.stderr).toContain(`preview-layout looked in the configured storage, local storage in ${store} (RECORDING_OUTPUT_DIR)`);
  }, 30000);
});
