import { createHash, createHmac } from 'node:crypto';
import { Authenticator } from '../../src/api/auth';
import { applyLiveChange } from '../../src/recordings/live-change';
import { DEFAULT_RECORDING_OPTIONS, parseStartOptions, resolveRecordingOptions, type RecordingOptions } from '../../src/recordings/options';
import { authorizePresetWrite } from '../../src/recordings/preset-service';
import { livePresetChange, presetSettings, presetSettingsInput, withPreset, type LayoutPreset, type PresetSettings } from '../../src/recordings/presets';
import { resolvePreview } from '../../src/recordings/preview-options';

const preset = (settings: PresetSettings, name = 'p1'): LayoutPreset => ({ name, settings, createdBy: null, createdAt: new Date(0), updatedAt: new Date(0) });
const settings = (input: unknown, origins: string[] = []) => presetSettings(presetSettingsInput.parse(input), origins);
const resolve = (body: unknown) => resolveRecordingOptions(parseStartOptions(body), { maxDurationSeconds: 60 }).options;

describe('a preset\'s settings', () => {
  it('keeps only what it was given, in the resolved form a start stores', () => {
    expect(settings({ layout: 'speaker-light' })).toEqual({ layout: 'speaker', theme: 'light' });
    expect(settings({ layout: 'single' })).toEqual({ layout: 'single-speaker' });
    expect(settings({ resolution: '720p-portrait', fps: 25 })).toEqual({ width: 720, height: 1280, fps: 25 });
    expect(settings({ theme: 'light', width: 1080, height: 1920 })).toEqual({ theme: 'light', width: 1080, height: 1920 });
    expect(settings({ overlays: { clock: {} } })).toEqual({ overlays: { clock: { position: 'top-left', timeZone: 'UTC' } } });
  });

  it.each([
    [{ width: 641, height: 360 }, 'UNSUPPORTED_OPTION', 'must be even'],
    [{ width: 1280 }, 'UNSUPPORTED_OPTION', 'width and height go together'],
    [{ width: 1920, height: 1920 }, 'UNSUPPORTED_OPTION', 'at most 2073600 pixels'],
    [{ resolution: '720p', width: 1280, height: 720 }, 'UNSUPPORTED_OPTION', 'not both'],
    [{ fps: 60 }, 'UNSUPPORTED_OPTION', 'fps must be one of 15, 24, 25, 30'],
    [{ layout: 'speaker-light', theme: 'dark' }, 'UNSUPPORTED_OPTION', 'is light but theme is dark'],
    [{}, 'VALIDATION_ERROR', 'a preset sets at least one of layout, theme, resolution, width, height, fps, overlays'],
    [{ overlays: { imageWatermark: { url: 'https://evil.example/logo.png' } } }, 'ASSET_URL_NOT_ALLOWED', 'https://evil.example'],
    [{ overlays: { background: { imageUrl: 'ftp://assets.example/bg.png' } } }, 'UNSUPPORTED_OPTION', 'absolute http(s) URL'],
  ])('refuses %j with the start request\'s code and rule', (input, code, message) => {
    expect(() => settings(input, ['https://assets.example'])).toThrow(expect.objectContaining({ code, message: expect.stringContaining(message) }));
  });

  it('takes an overlay image from an allowed origin', () => {
    expect(settings({ overlays: { imageWatermark: { url: 'https://assets.example/logo.png' } } }, ['https://assets.example']).overlays).toEqual({
      imageWatermark: { url: 'https://assets.example/logo.png', position: 'top-right', size: 0.15, opacity: 1 },
    });
  });

  it('refuses unknown fields and what the start request\'s schema refuses', () => {
    expect(presetSettingsInput.safeParse({ layout: 'grid', participants: { include: ['a'] } }).success).toBe(false);
    expect(presetSettingsInput.safeParse({ layout: 'mosaic' }).success).toBe(false);
    expect(presetSettingsInput.safeParse({ overlays: { sparkles: true } }).success).toBe(false);
  });
});

describe('a start that names a preset', () => {
  const portrait = preset({ layout: 'speaker', theme: 'light', width: 720, height: 1280, fps: 25 }, 'portrait');

  it('gets the preset\'s settings, and records which preset', () => {
    expect(resolve(withPreset({}, portrait))).toEqual({ ...DEFAULT_RECORDING_OPTIONS, layout: 'speaker', theme: 'light', width: 720, height: 1280, fps: 25, preset: 'portrait' });
  });

  it('keeps its own fields: each field, the size as a whole, a theme spelt in the layout', () => {
    expect(resolve(withPreset({ layout: 'grid', fps: 30 }, portrait))).toMatchObject({ layout: 'grid', theme: 'light', fps: 30, width: 720, height: 1280 });
    expect(resolve(withPreset({ resolution: '1080p' }, portrait))).toMatchObject({ width: 1920, height: 1080, layout: 'speaker' });
    expect(resolve(withPreset({ width: 640, height: 360 }, portrait))).toMatchObject({ width: 640, height: 360 });
    expect(resolve(withPreset({ layout: 'presentation-dark' }, portrait))).toMatchObject({ layout: 'presentation', theme: 'dark' });
    expect(resolve(withPreset({ theme: 'dark' }, portrait))).toMatchObject({ layout: 'speaker', theme: 'dark' });
    // undefined in a request is no field (the CLI's flags come that way)
    expect(resolve(withPreset({ layout: undefined, width: undefined }, portrait))).toMatchObject({ layout: 'speaker', width: 720 });
  });

  it('takes its overlays, the request\'s own replacing them whole; their images are checked again', () => {
    const logo = { imageWatermark: { url: 'https://assets.example/logo.png', position: 'top-right' as const, size: 0.15, opacity: 1 } };
    const branded = preset({ overlays: logo }, 'branded');
    const startWith = (body: object, origins: string[]) =>
      resolveRecordingOptions(parseStartOptions(body), { maxDurationSeconds: 60, assetOrigins: origins }).options;
    expect(startWith(withPreset({}, branded), ['https://assets.example']).overlays).toEqual(logo);
    expect(startWith(withPreset({ overlays: { nameLabels: true } }, branded), ['https://assets.example']).overlays).toEqual({ nameLabels: true });
    // the operator no longer allows the preset's image origin
    expect(() => startWith(withPreset({}, branded), [])).toThrow(expect.objectContaining({ code: 'ASSET_URL_NOT_ALLOWED' }));
  });

  it('leaves the defaults to what the preset does not set', () => {
    expect(resolve(withPreset({}, preset({ theme: 'light' })))).toEqual({ ...DEFAULT_RECORDING_OPTIONS, theme: 'light', preset: 'p1' });
  });

  it('previews the same way: the preset\'s look and size, flags winning', () => {
    expect(resolvePreview({}, undefined, portrait)).toMatchObject({ width: 720, height: 1280, layout: 'speaker', theme: 'light' });
    expect(resolvePreview({ layout: 'grid', width: 1280, height: 720 }, undefined, portrait)).toMatchObject({ width: 1280, height: 720, layout: 'grid', theme: 'light' });
  });
});

describe('a live change that names a preset', () => {
  const origins = { assetOrigins: ['https://assets.example'] };
  const current: RecordingOptions = { ...DEFAULT_RECORDING_OPTIONS, layout: 'grid', theme: 'dark' };

  it('takes its layout and theme, the change\'s own fields winning, and records the preset', () => {
    const look = preset({ layout: 'speaker', theme: 'light', width: 1280, height: 720 }, 'look');
    expect(applyLiveChange(current, livePresetChange(current, { preset: 'look' }, look), origins)).toEqual({ ...current, layout: 'speaker', theme: 'light', preset: 'look' });
    expect(applyLiveChange(current, livePresetChange(current, { preset: 'look', layout: 'presentation' }, look), origins)).toMatchObject({ layout: 'presentation', theme: 'light' });
    expect(applyLiveChange(current, livePresetChange(current, { preset: 'look', layout: 'grid-dark' }, look), origins)).toMatchObject({ layout: 'grid', theme: 'dark' });
    expect(applyLiveChange(current, livePresetChange(current, { preset: 'look', participants: { exclude: ['x'] } }, look), origins)).toMatchObject({ layout: 'speaker', participants: { exclude: ['x'] } });
  });

  it('takes its overlays too; the change\'s own overlays replace them', () => {
    const clock = preset({ overlays: { clock: { position: 'top-right', timeZone: 'UTC' } } }, 'clock');
    expect(applyLiveChange(current, livePresetChange(current, { preset: 'clock' }, clock), origins).overlays).toEqual({ clock: { position: 'top-right', timeZone: 'UTC' } });
    expect(applyLiveChange(current, livePresetChange(current, { preset: 'clock', overlays: {} }, clock), origins).overlays).toEqual({});
  });

  it('refuses a preset of another size or frame rate: PRESET_CANVAS_MISMATCH', () => {
    expect(() => livePresetChange(current, { preset: 'tall' }, preset({ layout: 'speaker', width: 720, height: 1280 }, 'tall'))).toThrow(
      expect.objectContaining({ code: 'PRESET_CANVAS_MISMATCH', message: expect.stringContaining('sets width 720, height 1280 but the recording has width 1280, height 720') }),
    );
    expect(() => livePresetChange(current, { preset: 'slow' }, preset({ fps: 15 }, 'slow'))).toThrow(expect.objectContaining({ code: 'PRESET_CANVAS_MISMATCH' }));
  });

  it('a preset that sets only what cannot change live still names itself', () => {
    expect(applyLiveChange(current, livePresetChange(current, { preset: 'same' }, preset({ fps: 30 }, 'same')), origins)).toEqual({ ...current, preset: 'same' });
  });
});

describe('who may write presets', () => {
  it('a service key (for a user or none) and an admin; not a user', () => {
    expect(() => authorizePresetWrite({ kind: 'service', userId: null })).not.toThrow();
    expect(() => authorizePresetWrite({ kind: 'service', userId: 'u1' })).not.toThrow();
    expect(() => authorizePresetWrite({ kind: 'user', userId: 'u1', admin: true })).not.toThrow();
    expect(() => authorizePresetWrite({ kind: 'user', userId: 'u1' })).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });

  it('a user token with "role": "admin" is an admin; another role, or one of another shape, is not', async () => {
    const secret = 'unit-test-secret-0123456789';
    const auth = new Authenticator({ jwtSecret: secret, serviceApiKeyHashes: [createHash('sha256').update('k').digest('hex')] });
    const token = (claims: Record<string, unknown>) => {
      const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const data = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 60, ...claims })}`;
      return { authorization: `Bearer ${data}.${createHmac('sha256', secret).update(data).digest('base64url')}` };
    };
    await expect(auth.authenticate(token({ role: 'admin' }))).resolves.toEqual({ kind: 'user', userId: 'u1', admin: true });
    await expect(auth.authenticate(token({ role: 'editor' }))).resolves.toEqual({ kind: 'user', userId: 'u1' });
    await expect(auth.authenticate(token({ role: ['admin'] }))).resolves.toEqual({ kind: 'user', userId: 'u1' });
  });
});
