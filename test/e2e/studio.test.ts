import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { THEMES } from '../../recorder-page/src/layouts';
import type { LayoutName, ThemeName } from '../../recorder-page/src/layouts/names';
import type { PreviewRequest } from '../../recorder-page/src/preview-scene';
import { loadConfig } from '../../src/config';
import { RECORDER_CHROMIUM_ARGS } from '../../src/recorder/browser-launch';
import { startTestService, type TestService } from '../helpers/in-process-service';
import { closeColours, expectedPixels } from '../helpers/layout-pixels';
import { userToken } from '../helpers/recorder-process';
import { apiRequest } from '../helpers/api-request';
import { IN_PAGE } from '../helpers/studio-in-page';

/**
 * The layout studio in real Chromium, served by the API process as a user opens it: the
 * picture is the recorder's compositor (each synthetic participant where the layout function
 * puts them, in the theme), it changes with the controls, a preset saved from it is what the
 * API lists, and a value the API refuses shows its message by the control and saves nothing.
 * A screenshot of each layout in each theme (and portrait) is kept in test-artifacts/studio/.
 */
const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'studio');
const SERVICE_KEY = 'studio-e2e-service-key-0123456789';
const LOGO_COLOUR = '#ff00ff';
const run = promisify(execFile);

let dir: string;
let assets: http.Server;
let assetOrigin: string;
let svc: TestService;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-studio-'));
  await fs.mkdir(ARTIFACTS, { recursive: true });
  const logo = path.join(dir, 'logo.png');
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `color=c=${LOGO_COLOUR}:s=160x80`, '-frames:v', '1', logo]);
  const logoBytes = await fs.readFile(logo);
  assets = http.createServer((req, res) => {
    if (req.url === '/logo.png') res.writeHead(200, { 'content-type': 'image/png' }).end(logoBytes);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => assets.listen(0, '127.0.0.1', resolve));
  assetOrigin = `http://127.0.0.1:${(assets.address() as AddressInfo).port}`;
  svc = await startTestService('studio', {
    AUTH_SERVICE_API_KEY_HASHES: createHash('sha256').update(SERVICE_KEY).digest('hex'),
    RECORDER_ASSET_ORIGINS: assetOrigin,
    RECORDER_WARM_BROWSERS: '0',
    RECORDER_STANDBY_PAGES: '0',
  });
  browser = await puppeteer.launch({ executablePath: loadConfig({}).recorder.chromiumPath, headless: true, args: RECORDER_CHROMIUM_ARGS, protocolTimeout: 30000 });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
}, 90000);

afterAll(async () => {
  await browser?.close();
  await svc?.close();
  assets?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** The API as the service key (the presets as stored). */
const asService = (method: string, urlPath: string, body?: unknown, token = SERVICE_KEY) => apiRequest(svc.base, token, method, urlPath, body);

const inPage = <T>(call: string): Promise<T> => page.evaluate(`(() => { ${IN_PAGE}; return t.${call}; })()`) as Promise<T>;
const drawnCount = () => page.evaluate('window.studio.picture.drawn') as Promise<number>;
const waitDrawnAfter = (n: number) => page.waitForFunction(`(() => { ${IN_PAGE}; return t.drawnAfter(${n}); })()`, { timeout: 15000 });
const waitText = (selector: string, text: string) => page.waitForFunction(`document.querySelector(${JSON.stringify(selector)}).textContent === ${JSON.stringify(text)}`, { timeout: 10000 });
const waitShown = (field: string) => page.waitForFunction(`document.querySelector('[data-error="${field}"]').classList.contains('shown')`, { timeout: 10000 });
const errorText = (field: string) => inPage<string>(`error(${JSON.stringify(field)})`);
const canvasData = () => page.evaluate("document.querySelector('#picture canvas').toDataURL()") as Promise<string>;

/** Sets controls by name; waits for the picture of the result. */
async function setControls(values: Record<string, string | boolean>): Promise<void> {
  const before = await drawnCount();
  await inPage(`set(${JSON.stringify(values)})`);
  await waitDrawnAfter(before);
}

/** The canvas's colours at those points. */
const pixels = (points: { x: number; y: number }[]) => inPage<string[]>(`pixels(${JSON.stringify(points.map(({ x, y }) => ({ x, y })))})`);

/** Polls the canvas until it shows about `colour` at `point`. */
async function waitForColour(point: { x: number; y: number }, colour: string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let got = '';
  while (Date.now() < deadline) {
    [got] = await pixels([point]);
    if (closeColours(got, colour, 24)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the canvas shows ${got} at ${point.x},${point.y}, not ${colour}`);
}

/** Every tile of `r` drawn where the layout function puts it, the canvas of `r`'s size, the gap in the theme's background. */
async function expectPicture(r: PreviewRequest): Promise<void> {
  expect(await inPage('size()')).toEqual({ width: r.width, height: r.height });
  const want = expectedPixels(r);
  const got = await pixels([...want, { x: 2, y: 2 }]);
  const wrong = want.map((e, i) => ({ identity: e.tile.identity, kind: e.tile.kind, want: e.colour, got: got[i] })).filter((e) => !closeColours(e.got, e.want));
  expect(wrong).toEqual([]);
  expect(closeColours(got[want.length], THEMES[r.theme].background)).toBe(true);
}


describe('the layout studio', () => {
  it('is served by the API with a policy of its own, and draws the default grid without a token', async () => {
    const res = await fetch(`${svc.base}/studio`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect((await fetch(`${svc.base}/studio/studio.css`)).headers.get('content-type')).toContain('text/css');
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${svc.base}/studio`, { waitUntil: 'load' });
    await page.waitForFunction("window.studio?.picture.drawn > 0 && document.getElementById('picture').dataset.state === 'ready'", { timeout: 20000 });
    await expectPicture({ width: 1280, height: 720, layout: 'grid', theme: 'dark', participants: 4 });
    expect(await inPage("text('#caption')")).toBe('1280 × 720 · grid · dark · 4 participants');
    expect(errors).toEqual([]);
  }, 60000);

  it('connects with a pasted service key, kept in sessionStorage', async () => {
    await page.type('#token', SERVICE_KEY);
    await page.click('#auth button[type=submit]');
    await waitText('#auth-status', 'Connected');
    expect(await page.evaluate("sessionStorage.getItem('recorder-studio-token')")).toBe(SERVICE_KEY);
    expect(await page.evaluate("document.getElementById('token').value")).toBe('');
  });

  it('redraws when the layout changes', async () => {
    const scene = { participants: '6', speaking: '2', cameraOff: '4' };
    await setControls({ ...scene, layout: 'grid' });
    const grid = await canvasData();
    await setControls({ layout: 'speaker' });
    const speaker = await canvasData();
    expect(speaker).not.toBe(grid);
    await expectPicture({ width: 1280, height: 720, layout: 'speaker', theme: 'dark', participants: 6, speaking: 2, cameraOff: 4 });
  });

  const SHOTS: { layout: LayoutName; theme: ThemeName; size: string; width: number; height: number; screenShare?: number }[] = [];
  for (const layout of ['grid', 'speaker', 'single-speaker', 'presentation'] as const) {
    for (const theme of ['dark', 'light'] as const) SHOTS.push({ layout, theme, size: '720p', width: 1280, height: 720, ...(layout === 'presentation' ? { screenShare: 1 } : {}) });
  }
  SHOTS.push({ layout: 'presentation', theme: 'light', size: '720p-portrait', width: 720, height: 1280, screenShare: 1 });
  SHOTS.push({ layout: 'grid', theme: 'dark', size: '1080p-portrait', width: 1080, height: 1920 });

  it.each(SHOTS.map((s) => [`${s.layout}-${s.theme}-${s.width}x${s.height}`, s]))('%s: each participant where the layout puts them (screenshot kept)', async (name, s) => {
    await setControls({ layout: s.layout, theme: s.theme, size: s.size, participants: '6', speaking: '2', cameraOff: '4', screenShare: String(s.screenShare ?? '') });
    await expectPicture({ width: s.width, height: s.height, layout: s.layout, theme: s.theme, participants: 6, speaking: 2, cameraOff: 4, ...(s.screenShare ? { screenShare: s.screenShare } : {}) });
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) as `${string}.png` });
  }, 30000);

  it('saves the settings as a preset the API lists, with an overlay image from an allowed origin', async () => {
    await setControls({
      layout: 'speaker', theme: 'light', size: '720p-portrait', fps: '25', participants: '4', screenShare: '', speaking: '2', cameraOff: '',
      textOn: true, textText: 'Studio test', textPosition: 'bottom-left', textColour: '#00ffff', textOpacity: '1',
      clockOn: true, clockTimeZone: 'Europe/Berlin', nameLabels: true,
      imageOn: true, imageUrl: `${assetOrigin}/logo.png`, imagePosition: 'top-right', imageSize: '0.2', imageOpacity: '1',
    });
    // the API fetched the image for the picture: it is drawn at the top right (20% of 720 wide, 22 px in)
    await waitForColour({ x: 720 - 22 - 72, y: 22 + 36 }, LOGO_COLOUR);
    await page.screenshot({ path: path.join(ARTIFACTS, 'overlays-speaker-light-720x1280.png') });
    await page.evaluate("document.querySelector('#save [name=name]').value = ''");
    await page.type('#save [name=name]', 'studio-talk');
    await page.click('#save button[type=submit]');
    await waitText('#save-status', 'Saved studio-talk');
    const listed = await asService('GET', '/api/layout-presets');
    expect(listed.status).toBe(200);
    const saved = listed.body.data.find((p: { name: string }) => p.name === 'studio-talk');
    expect(saved).toMatchObject({
      layout: 'speaker', theme: 'light', width: 720, height: 1280, fps: 25,
      overlays: {
        textWatermark: { text: 'Studio test', position: 'bottom-left', colour: '#00ffff', opacity: 1 },
        imageWatermark: { url: `${assetOrigin}/logo.png`, position: 'top-right', size: 0.2, opacity: 1 },
        clock: { timeZone: 'Europe/Berlin' },
        nameLabels: true,
      },
    });
    // the list is read again after the save answered: wait for it, as for the delete below
    await page.waitForFunction("document.querySelectorAll('#preset-list li[data-preset]').length > 0", { timeout: 10000 }).catch(() => undefined);
    expect(await page.evaluate("[...document.querySelectorAll('#preset-list li[data-preset]')].map((e) => e.dataset.preset)")).toEqual(['studio-talk']);
  });

  it("shows the API's refusal by the control and saves nothing", async () => {
    await setControls({ size: 'custom', width: '4000', height: '720', imageUrl: 'https://elsewhere.example/logo.png' });
    await waitShown('width');
    expect(await errorText('width')).toContain('width must be an integer from 120 to 1920');
    await page.evaluate("document.querySelector('#save [name=name]').value = ''");
    await page.type('#save [name=name]', 'studio-bad');
    await page.click('#save button[type=submit]');
    await waitText('#save-status', 'Not saved');
    expect(await errorText('width')).toContain('(UNSUPPORTED_OPTION)');
    expect(await page.evaluate("document.querySelector('[name=width]').getAttribute('aria-invalid')")).toBe('true');
    expect(await page.evaluate("document.getElementById('picture').classList.contains('refused')")).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'refused-width.png') });
    // an image from an origin the operator did not allow: its own refusal, by its field
    await setControls({ width: '1280' });
    await waitShown('overlays.imageWatermark.url');
    expect(await errorText('overlays.imageWatermark.url')).toContain('ASSET_URL_NOT_ALLOWED');
    await page.click('#save button[type=submit]');
    await waitText('#save-status', 'Not saved');
    const names = (await asService('GET', '/api/layout-presets')).body.data.map((p: { name: string }) => p.name);
    expect(names).toEqual(['studio-talk']);
  });

  it('a watermark naming an asset that is not uploaded: the refusal by the watermark field, gone when the field is edited', async () => {
    const missing = 'asset://studio-bad/logo.png';
    const field = 'overlays.imageWatermark.url';
    const invalid = "document.querySelector('[name=imageUrl]').getAttribute('aria-invalid')";
    // the API says which field it is about
    const direct = await asService('PUT', '/api/layout-presets/studio-bad', { layout: 'grid', overlays: { imageWatermark: { url: missing } } });
    expect({ status: direct.status, code: direct.body.error.code, details: direct.body.error.details }).toEqual({ status: 400, code: 'OVERLAY_ASSET_NOT_FOUND', details: { path: field } });
    const backdrop = await asService('POST', '/api/studio/check', { layout: 'grid', overlays: { background: { imageUrl: 'https://elsewhere.example/bg.png' } } });
    expect({ code: backdrop.body.error.code, details: backdrop.body.error.details }).toEqual({ code: 'ASSET_URL_NOT_ALLOWED', details: { path: 'overlays.background.imageUrl' } });
    await setControls({ imageOn: true, imageUrl: missing });
    await page.evaluate("document.querySelector('#save [name=name]').value = ''");
    await page.type('#save [name=name]', 'studio-bad');
    await page.click('#save button[type=submit]');
    await waitText('#save-status', 'Not saved');
    await waitShown(field);
    expect(await errorText(field)).toContain(`the overlays name ${missing}, but preset studio-bad has no asset logo.png`);
    expect(await errorText(field)).toContain('(OVERLAY_ASSET_NOT_FOUND)');
    expect(await page.evaluate(invalid)).toBe('true');
    expect(await page.evaluate("getComputedStyle(document.querySelector('[name=imageUrl]')).borderTopColor")).toBe('rgb(201, 42, 42)');
    expect(await errorText('general')).toBe('');
    expect(await errorText('overlays.background.imageUrl')).toBe('');
    await page.evaluate("document.querySelector('[name=imageUrl]').scrollIntoView({ block: 'center' })");
    await page.screenshot({ path: path.join(ARTIFACTS, 'refused-missing-asset.png') });
    // editing the field clears its message at once (read in the same turn as the input event), and the check of the new URL finds nothing to say
    const right = `${assetOrigin}/logo.png`;
    const atOnce = await page.evaluate(`(() => { ${IN_PAGE}; t.set({ imageUrl: ${JSON.stringify(right)} }); return [t.error(${JSON.stringify(field)}), ${invalid}]; })()`);
    expect(atOnce).toEqual(['', null]);
    await waitForColour({ x: 1280 - 22 - 128, y: 22 + 64 }, LOGO_COLOUR);
    expect(await page.evaluate('window.studio.check()')).toBe(true);
    expect([await errorText(field), await page.evaluate(invalid), await errorText('general')]).toEqual(['', null, '']);
    const names = (await asService('GET', '/api/layout-presets')).body.data.map((p: { name: string }) => p.name);
    expect(names).toEqual(['studio-talk']);
  }, 30000);

  it('loads a saved preset into the controls when clicked, and deletes it', async () => {
    await setControls({ layout: 'grid', theme: 'dark', size: '720p', imageOn: false, textOn: false, clockOn: false, nameLabels: false, fps: '' });
    const before = await drawnCount();
    await page.click('#preset-list li[data-preset="studio-talk"] .load');
    await waitDrawnAfter(before);
    const controls = await inPage('controls()');
    expect(controls).toEqual({ layout: 'speaker', theme: 'light', size: '720p-portrait', fps: '25', text: 'Studio test', clock: 'Europe/Berlin', labels: true });
    await page.click('#preset-list li[data-preset="studio-talk"] .delete');
    await waitText('#save-status', 'Deleted studio-talk');
    expect((await asService('GET', '/api/layout-presets')).body.data).toEqual([]);
    // the status says so before the list is fetched again
    await page.waitForFunction("document.querySelectorAll('#preset-list li[data-preset]').length === 0", { timeout: 10000 });
  });

  it('a user who is no admin reads presets but may not save one: the refusal is shown', async () => {
    const user = userToken('studio-e2e-secret-0123456789abcdef', 'host-1');
    await page.click('#forget');
    await page.type('#token', user);
    await page.click('#auth button[type=submit]');
    await waitText('#auth-status', 'Connected');
    await page.click('#save button[type=submit]');
    await waitShown('general');
    expect(await errorText('general')).toContain('(FORBIDDEN)');
    expect((await asService('GET', '/api/layout-presets')).body.data).toEqual([]);
  });

  it.each([
    ['check: a size a start refuses', '/api/studio/check', { layout: 'grid', width: 4000, height: 720 }, 400, 'UNSUPPORTED_OPTION'],
    ['check: width without height', '/api/studio/check', { width: 1280 }, 400, 'UNSUPPORTED_OPTION'],
    ['check: an unknown field', '/api/studio/check', { layout: 'grid', sparkles: true }, 400, 'VALIDATION_ERROR'],
    ['check: a participant out of range', '/api/studio/check', { layout: 'grid', participants: 26 }, 400, 'UNSUPPORTED_OPTION'],
    ['check: a speaker who is not there', '/api/studio/check', { layout: 'grid', participants: 3, speaking: 4 }, 400, 'UNSUPPORTED_OPTION'],
    ['image: an origin not allowed', '/api/studio/image', { url: 'https://elsewhere.example/logo.png' }, 400, 'ASSET_URL_NOT_ALLOWED'],
    ['image: not a URL', '/api/studio/image', { url: 'logo.png' }, 400, 'UNSUPPORTED_OPTION'],
  ])('%s: %s is a 4xx with a stable code', async (_name, urlPath, body, status, code) => {
    const r = await asService('POST', urlPath, body);
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
  });

  it('image: a missing image at an allowed origin is 502 OVERLAY_IMAGE_FAILED; without a token both routes are 401', async () => {
    const missing = await asService('POST', '/api/studio/image', { url: `${assetOrigin}/nothing.png` });
    expect({ status: missing.status, code: missing.body.error.code }).toEqual({ status: 502, code: 'OVERLAY_IMAGE_FAILED' });
    for (const p of ['/api/studio/check', '/api/studio/image']) {
      const res = await fetch(svc.base + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(401);
    }
    const ok = await asService('POST', '/api/studio/check', { layout: 'presentation-light', resolution: '1080p-portrait', participants: 5, screenShare: 1 });
    expect(ok.status).toBe(200);
    expect(ok.body.data.settings).toEqual({ layout: 'presentation', theme: 'light', width: 1080, height: 1920 });
  });
});
