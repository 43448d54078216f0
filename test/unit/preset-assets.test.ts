import { pageOverlays, overlayImageReader } from '../../src/recorder/overlay-assets';
import { checkOverlayAssets, checkOverlays, overlaysSchema } from '../../src/recordings/overlays';
import { PresetAssetService } from '../../src/recordings/preset-asset-service';
import { assetTypeOfName, checkAssetName, parseAssetUrl, sniffImageType, type AssetInfo, type AssetRef, type AssetType, type PresetAssetStore } from '../../src/recordings/preset-assets';
import { LayoutPresetService } from '../../src/recordings/preset-service';
import type { LayoutPreset, LayoutPresetRepository, NewLayoutPreset } from '../../src/recordings/presets';

/** The rules of presets' uploaded assets: their names, types and URLs, and how overlays, presets and the worker take them. */

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
const WEBP = Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1');
const GIF = Buffer.from('GIF89a\x01\x00', 'latin1');

class MemoryAssets implements PresetAssetStore {
  readonly items = new Map<string, { info: AssetInfo; bytes: Buffer }>();
  private key = (r: AssetRef) => `${r.preset}/${r.file}`;
  async list(preset: string) {
    return [...this.items.entries()].filter(([k]) => k.startsWith(`${preset}/`)).map(([, v]) => v.info);
  }
  async head(r: AssetRef) {
    return this.items.get(this.key(r))?.info ?? null;
  }
  async read(r: AssetRef) {
    return this.items.get(this.key(r)) ?? null;
  }
  async write(r: AssetRef, bytes: Buffer, type: AssetType) {
    const info = { name: r.file, size: bytes.length, type };
    this.items.set(this.key(r), { info, bytes });
    return info;
  }
  async delete(r: AssetRef) {
    this.items.delete(this.key(r));
  }
  async deleteAll(preset: string) {
    const keys = [...this.items.keys()].filter((k) => k.startsWith(`${preset}/`));
    keys.forEach((k) => this.items.delete(k));
    return keys.length;
  }
}

class MemoryPresets implements LayoutPresetRepository {
  readonly rows = new Map<string, LayoutPreset>();
  async create(p: NewLayoutPreset) {
    if (this.rows.has(p.name)) return null;
    const row = { ...p, createdAt: new Date(), updatedAt: new Date() };
    this.rows.set(p.name, row);
    return row;
  }
  async put(p: NewLayoutPreset) {
    const created = !this.rows.has(p.name);
    const row = { ...p, createdAt: new Date(), updatedAt: new Date() };
    this.rows.set(p.name, row);
    return { preset: row, created };
  }
  async get(name: string) {
    return this.rows.get(name) ?? null;
  }
  async list() {
    return [...this.rows.values()];
  }
  async delete(name: string) {
    const row = this.rows.get(name) ?? null;
    this.rows.delete(name);
    return row;
  }
}

const service = { kind: 'service' as const, userId: null };
const code = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'none';
};
const overlays = (url: string) => overlaysSchema.parse({ imageWatermark: { url } });

describe('asset names, types and URLs', () => {
  it('takes one safe segment with an image extension', () => {
    for (const ok of ['logo.png', 'Logo-2.JPG', 'a.jpeg', 'bg_1.webp', 'x.gif', `${'a'.repeat(96)}.png`]) expect(checkAssetName(ok)).toBe(ok);
    for (const bad of ['logo', 'logo.svg', '.png', '../x.png', 'a/b.png', 'a..b.png', 'a b.png', '-x.png', `${'a'.repeat(97)}.png`, '']) {
      expect(() => checkAssetName(bad)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
    }
    expect([assetTypeOfName('a.JPG'), assetTypeOfName('a.jpeg'), assetTypeOfName('a.webp'), assetTypeOfName('a.txt')]).toEqual(['image/jpeg', 'image/jpeg', 'image/webp', null]);
  });

  it('knows PNG, JPEG, WebP and GIF by their first bytes, and nothing else', () => {
    expect([PNG, JPEG, WEBP, GIF].map(sniffImageType)).toEqual(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
    expect([Buffer.from('<svg/>'), Buffer.from('RIFF\x10\x00\x00\x00WAVE', 'latin1'), Buffer.alloc(0)].map(sniffImageType)).toEqual([null, null, null]);
  });

  it('an asset URL is asset://<preset>/<file>', () => {
    expect(parseAssetUrl('asset://brand/logo.png')).toEqual({ preset: 'brand', file: 'logo.png' });
    for (const bad of ['asset://brand', 'asset://brand/', 'asset://Brand/logo.png', 'asset://brand/a/logo.png', 'asset://brand/logo.svg', 'asset:///logo.png']) {
      expect(() => parseAssetUrl(bad)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPTION' }));
    }
  });
});

describe('overlays naming an asset', () => {
  it('are accepted whatever the allowed origins (their existence is checked apart)', () => {
    for (const origins of [[], ['https://assets.example'], 'any'] as const) {
      expect(checkOverlays(overlays('asset://brand/logo.png'), {}, origins)).toEqual(overlays('asset://brand/logo.png'));
      expect(() => checkOverlays(overlays('asset://brand/logo.svg'), {}, origins)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPTION' }));
    }
    expect(() => checkOverlays(overlays('https://evil.example/logo.png'), {}, ['https://assets.example'])).toThrow(expect.objectContaining({ code: 'ASSET_URL_NOT_ALLOWED' }));
  });

  it('must exist when the request is taken: OVERLAY_ASSET_NOT_FOUND, also without a store', async () => {
    const store = new MemoryAssets();
    await store.write({ preset: 'brand', file: 'logo.png' }, PNG, 'image/png');
    await expect(checkOverlayAssets(overlays('asset://brand/logo.png'), store)).resolves.toBeUndefined();
    await expect(checkOverlayAssets(overlaysSchema.parse({ background: { imageUrl: 'asset://brand/bg.png' } }), store)).rejects.toMatchObject({ code: 'OVERLAY_ASSET_NOT_FOUND', message: expect.stringContaining('asset://brand/bg.png') });
    await expect(checkOverlayAssets(overlays('asset://brand/logo.png'), undefined)).rejects.toMatchObject({ code: 'OVERLAY_ASSET_NOT_FOUND' });
    await expect(checkOverlayAssets(overlays('https://assets.example/logo.png'), undefined)).resolves.toBeUndefined();
  });

  it('the worker reads them from the store as data: URLs; one gone since is OVERLAY_IMAGE_FAILED', async () => {
    const store = new MemoryAssets();
    await store.write({ preset: 'brand', file: 'logo.gif' }, GIF, 'image/gif');
    const page = await pageOverlays(overlays('asset://brand/logo.gif'), overlayImageReader(store));
    expect(page?.imageWatermark?.url).toBe(`data:image/gif;base64,${GIF.toString('base64')}`);
    await expect(pageOverlays(overlays('asset://brand/gone.png'), overlayImageReader(store))).rejects.toMatchObject({ code: 'OVERLAY_IMAGE_FAILED', message: expect.stringContaining('no asset gone.png') });
    await expect(pageOverlays(overlays('asset://brand/logo.gif'), overlayImageReader(undefined, 'no storage here'))).rejects.toMatchObject({ code: 'OVERLAY_IMAGE_FAILED', message: expect.stringContaining('no storage here') });
  });
});

describe('the assets of a preset', () => {
  let presets: MemoryPresets, store: MemoryAssets, assets: PresetAssetService, presetService: LayoutPresetService;
  beforeEach(async () => {
    presets = new MemoryPresets();
    store = new MemoryAssets();
    assets = new PresetAssetService(presets, store);
    presetService = new LayoutPresetService(presets, { assetOrigins: [], assets: store });
    await presetService.put(service, 'brand', { layout: 'grid' });
  });
  const upload = (file: string, bytes: Buffer, contentType: string | undefined, preset = 'brand') => assets.put(service, preset, file, { contentType, bytes });

  it('an upload whose Content-Type, bytes and name agree is stored; the same name replaces it', async () => {
    expect(await upload('logo.png', PNG, 'image/png')).toEqual({ asset: { name: 'logo.png', size: PNG.length, type: 'image/png' }, created: true });
    expect((await upload('logo.png', PNG, 'image/png; charset=binary')).created).toBe(false);
    expect((await upload('photo.jpeg', JPEG, 'image/jpeg')).asset.type).toBe('image/jpeg');
    expect((await assets.get('brand', 'logo.png')).bytes.equals(PNG)).toBe(true);
  });

  it('refuses what is not an image of ours, or says two types, with a stable code and nothing stored', async () => {
    const cases: [string, Buffer, string | undefined, string][] = [
      ['logo.png', PNG, undefined, 'UNSUPPORTED_MEDIA_TYPE'],
      ['logo.png', PNG, 'application/json', 'UNSUPPORTED_MEDIA_TYPE'],
      ['logo.png', Buffer.from('<svg/>'), 'image/png', 'UNSUPPORTED_MEDIA_TYPE'],
      ['logo.png', Buffer.alloc(0), 'image/png', 'VALIDATION_ERROR'],
      ['logo.png', JPEG, 'image/png', 'ASSET_TYPE_MISMATCH'],
      ['logo.png', JPEG, 'image/jpeg', 'ASSET_TYPE_MISMATCH'],
      ['logo.png', Buffer.concat([PNG, Buffer.alloc(4 * 1024 * 1024)]), 'image/png', 'PAYLOAD_TOO_LARGE'],
      ['logo.svg', PNG, 'image/png', 'VALIDATION_ERROR'],
    ];
    for (const [file, bytes, type, want] of cases) expect({ file, type, code: await code(upload(file, bytes, type)) }).toEqual({ file, type, code: want });
    expect(await code(upload('logo.png', PNG, 'image/png', 'nobody'))).toBe('PRESET_NOT_FOUND');
    expect(await code(assets.put({ kind: 'user', userId: 'u1' }, 'brand', 'logo.png', { contentType: 'image/png', bytes: PNG }))).toBe('FORBIDDEN');
    expect(store.items.size).toBe(0);
    expect(await code(assets.get('brand', 'logo.png'))).toBe('ASSET_NOT_FOUND');
  });

  it('holds at most 20; a replacement still goes in', async () => {
    for (let i = 0; i < 20; i++) await upload(`a${i}.png`, PNG, 'image/png');
    expect(await code(upload('one-more.png', PNG, 'image/png'))).toBe('TOO_MANY_ASSETS');
    expect((await upload('a3.png', PNG, 'image/png')).created).toBe(false);
    expect(store.items.size).toBe(20);
  });

  it('a preset may name its own or another preset\'s asset once it exists; one named is not deleted', async () => {
    expect(await code(presetService.put(service, 'brand', { overlays: overlays('asset://brand/logo.png') }))).toBe('OVERLAY_ASSET_NOT_FOUND');
    await upload('logo.png', PNG, 'image/png');
    await presetService.put(service, 'brand', { overlays: overlays('asset://brand/logo.png') });
    await presetService.put(service, 'other', { overlays: overlays('asset://brand/logo.png') });
    expect(await code(assets.delete(service, 'brand', 'logo.png'))).toBe('ASSET_IN_USE');
    expect(await code(presetService.delete(service, 'brand'))).toBe('ASSET_IN_USE');
    expect(store.items.size).toBe(1);
    // once no other preset names them, deleting the preset deletes its assets
    await presetService.delete(service, 'other');
    await presetService.delete(service, 'brand');
    expect(store.items.size).toBe(0);
    expect(await code(assets.list('brand'))).toBe('PRESET_NOT_FOUND');
  });
});
