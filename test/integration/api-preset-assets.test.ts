import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import path from 'node:path';
import { createService, type Service } from '../../src/app/http';
import { createStorage } from '../../src/storage';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, SERVICE_KEY, testConfig, userToken, waitFor } from './recordings-harness';

/**
 * A layout preset's uploaded assets (/api/layout-presets/:name/assets) on local storage, S3
 * (moto) and GCS (fake-gcs-server): stored under the storage's own prefix for presets, served back with their type,
 * listed, deleted (with their preset too); every refusal a 4xx with a stable code and nothing
 * stored; and `asset://<preset>/<file>` in a preset's, a start's and a live change's overlays,
 * refused while the asset is not there.
 */
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('png-body')]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
const env = process.env;

const storages: [string, Record<string, string | undefined>][] = [
  ['local', {}],
  ['aws', { RECORDING_STORAGE_PROVIDER: 'aws', RECORDING_STORAGE_BUCKET: env.TEST_S3_BUCKET, RECORDING_STORAGE_ENDPOINT: env.TEST_S3_ENDPOINT, RECORDING_STORAGE_CREDENTIALS: env.TEST_S3_CREDENTIALS, RECORDING_STORAGE_PREFIX: `assets-${process.pid}` }],
  ['gcp', { RECORDING_STORAGE_PROVIDER: 'gcp', RECORDING_STORAGE_BUCKET: env.TEST_GCS_BUCKET, RECORDING_STORAGE_ENDPOINT: env.TEST_GCS_ENDPOINT, RECORDING_STORAGE_CREDENTIALS: env.TEST_GCS_CREDENTIALS, RECORDING_STORAGE_PREFIX: `assets-${process.pid}` }],
];

describe.each(storages)('preset assets on %s storage', (provider, storageEnv) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: Service;
  let http: Awaited<ReturnType<typeof listen>>;
  let recorder: FfmpegTestRecorder;
  let host: string, user: string;
  let outputDir = '';
  const service = { 'x-api-key': SERVICE_KEY };

  beforeAll(async () => {
    db = await createTestDatabase(`preset-assets-${provider}`);
    recorder = new FfmpegTestRecorder();
    const config = testConfig({ DATABASE_URL: db.url, RECORDER_MAX_CONCURRENT: '4', ...storageEnv });
    outputDir = config.storage.localDir;
    svc = await createService(config, { recorder, presence: false });
    await svc.start();
    http = await listen(svc.app);
    [host, user] = await Promise.all([userToken('host-1'), userToken('user-1')]);
  });
  afterAll(async () => {
    await http?.close();
    await svc?.close();
    await db?.drop();
  });

  const api = (method: string, p: string, opts: { token?: string; headers?: Record<string, string>; body?: unknown } = {}) => call(http.url, method, p, opts);
  const upload = (p: string, bytes: Buffer, headers: Record<string, string> = { ...service, 'content-type': 'image/png' }) =>
    fetch(`${http.url}/api/layout-presets/${p}`, { method: 'PUT', headers, body: bytes }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));
  /** Every stored object's key under the storage, for "nothing changed". */
  async function storedKeys(): Promise<string[]> {
    if (provider === 'local') {
      const walk = (dir: string): string[] =>
        fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.relative(outputDir, path.join(dir, e.name))])) : [];
      return walk(path.join(outputDir, '_presets')).sort();
    }
    const prefix = `${storageEnv.RECORDING_STORAGE_PREFIX}/`;
    if (provider === 'gcp') {
      // through the provider itself: the emulator has no other client here
      const storage = createStorage(testConfig(storageEnv).storage);
      const keys = (await storage.list(`${prefix}_presets/`)).map((o) => o.key.slice(prefix.length)).sort();
      await storage.close();
      return keys;
    }
    const [id, secret] = env.TEST_S3_CREDENTIALS!.split(':');
    const s3 = new S3Client({ region: 'us-east-1', endpoint: env.TEST_S3_ENDPOINT, forcePathStyle: true, credentials: { accessKeyId: id!, secretAccessKey: secret! } });
    const out = await s3.send(new ListObjectsV2Command({ Bucket: env.TEST_S3_BUCKET, Prefix: `${storageEnv.RECORDING_STORAGE_PREFIX}/_presets/` }));
    s3.destroy();
    return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
  }

  test('stored, served with its type, listed, replaced and deleted; the preset\'s deletion takes its assets', async () => {
    expect((await api('PUT', '/api/layout-presets/brand', { headers: service, body: { layout: 'grid' } })).status).toBe(201);
    const put = await upload('brand/assets/logo.png', PNG);
    expect(put).toEqual({ status: 201, body: { success: true, message: 'asset stored', data: { name: 'logo.png', size: PNG.length, type: 'image/png', url: 'asset://brand/logo.png' } } });
    expect((await upload('brand/assets/photo.jpg', JPEG, { ...service, 'content-type': 'image/jpeg' })).status).toBe(201);
    expect(await storedKeys()).toEqual(['_presets/brand/logo.png', '_presets/brand/photo.jpg']);

    const got = await fetch(`${http.url}/api/layout-presets/brand/assets/logo.png`, { headers: { authorization: `Bearer ${user}` } });
    expect([got.status, got.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect(Buffer.from(await got.arrayBuffer()).equals(PNG)).toBe(true);
    const list = await api('GET', '/api/layout-presets/brand/assets', { token: user });
    expect(list.body.data).toEqual([
      { name: 'logo.png', size: PNG.length, type: 'image/png', url: 'asset://brand/logo.png' },
      { name: 'photo.jpg', size: JPEG.length, type: 'image/jpeg', url: 'asset://brand/photo.jpg' },
    ]);

    const bigger = Buffer.concat([PNG, Buffer.alloc(1000)]);
    const replaced = await upload('brand/assets/logo.png', bigger);
    expect([replaced.status, replaced.body.message, replaced.body.data.size]).toEqual([200, 'asset replaced', bigger.length]);
    const deleted = await api('DELETE', '/api/layout-presets/brand/assets/photo.jpg', { headers: service });
    expect([deleted.status, deleted.body.data.name]).toEqual([200, 'photo.jpg']);
    expect((await api('GET', '/api/layout-presets/brand/assets/photo.jpg', { token: user })).body.error.code).toBe('ASSET_NOT_FOUND');

    // a preset deleted takes its assets; one made again under its name starts with none
    expect((await api('DELETE', '/api/layout-presets/brand', { headers: service })).status).toBe(200);
    expect(await storedKeys()).toEqual([]);
    await api('PUT', '/api/layout-presets/brand', { headers: service, body: { layout: 'grid' } });
    expect((await api('GET', '/api/layout-presets/brand/assets', { token: user })).body.data).toEqual([]);
  });

  test('every refusal is a 4xx with a stable code, and nothing is stored or changed', async () => {
    await api('PUT', '/api/layout-presets/keep', { headers: service, body: { layout: 'grid' } });
    expect((await upload('keep/assets/logo.png', PNG)).status).toBe(201);
    await api('PUT', '/api/layout-presets/keep', { headers: service, body: { overlays: { imageWatermark: { url: 'asset://keep/logo.png' } } } });
    const before = { keys: await storedKeys(), presets: await svc.db.prisma.layoutPreset.findMany({ orderBy: { name: 'asc' } }) };
    const png = { ...service, 'content-type': 'image/png' };
    const uploads: [string, Buffer, Record<string, string>, number, string][] = [
      ['keep/assets/new.png', PNG, { 'x-api-key': SERVICE_KEY }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['keep/assets/new.png', PNG, { ...service, 'content-type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['keep/assets/new.png', Buffer.from('{"a":1}'), { ...service, 'content-type': 'application/json' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['keep/assets/new.png', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), png, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['keep/assets/new.png', JPEG, png, 400, 'ASSET_TYPE_MISMATCH'],
      ['keep/assets/new.png', JPEG, { ...service, 'content-type': 'image/jpeg' }, 400, 'ASSET_TYPE_MISMATCH'],
      ['keep/assets/new.png', Buffer.concat([PNG, Buffer.alloc(4 * 1024 * 1024)]), png, 413, 'PAYLOAD_TOO_LARGE'],
      ['keep/assets/new.png', Buffer.alloc(0), png, 400, 'VALIDATION_ERROR'],
      ['keep/assets/new.svg', PNG, png, 400, 'VALIDATION_ERROR'],
      ['keep/assets/..png', PNG, png, 400, 'VALIDATION_ERROR'],
      ['keep/assets/a%2Fb.png', PNG, png, 400, 'VALIDATION_ERROR'],
      ['KEEP/assets/new.png', PNG, png, 400, 'VALIDATION_ERROR'],
      ['nobody/assets/new.png', PNG, png, 404, 'PRESET_NOT_FOUND'],
      ['keep/assets/new.png', PNG, { authorization: `Bearer ${user}`, 'content-type': 'image/png' }, 403, 'FORBIDDEN'],
      ['keep/assets/new.png', PNG, { 'content-type': 'image/png' }, 401, 'UNAUTHORIZED'],
    ];
    for (const [p, bytes, headers, status, code] of uploads) {
      const res = await upload(p, bytes, headers);
      expect({ p, ct: headers['content-type'], status: res.status, code: res.body.error?.code }).toEqual({ p, ct: headers['content-type'], status, code });
    }
    const others: [string, string, { token?: string; headers?: Record<string, string>; body?: unknown }, number, string][] = [
      ['GET', '/api/layout-presets/keep/assets/none.png', { token: user }, 404, 'ASSET_NOT_FOUND'],
      ['GET', '/api/layout-presets/nobody/assets', { token: user }, 404, 'PRESET_NOT_FOUND'],
      ['GET', '/api/layout-presets/nobody/assets/logo.png', { token: user }, 404, 'PRESET_NOT_FOUND'],
      ['GET', '/api/layout-presets/keep/assets/logo.txt', { token: user }, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/layout-presets/keep/assets', {}, 401, 'UNAUTHORIZED'],
      ['DELETE', '/api/layout-presets/keep/assets/none.png', { headers: service }, 404, 'ASSET_NOT_FOUND'],
      ['DELETE', '/api/layout-presets/keep/assets/logo.png', { token: user }, 403, 'FORBIDDEN'],
      // the preset's own overlays name it
      ['DELETE', '/api/layout-presets/keep/assets/logo.png', { headers: service }, 409, 'ASSET_IN_USE'],
      ['PUT', '/api/layout-presets/n1', { headers: service, body: { overlays: { imageWatermark: { url: 'asset://keep/none.png' } } } }, 400, 'OVERLAY_ASSET_NOT_FOUND'],
      ['POST', '/api/layout-presets', { headers: service, body: { name: 'n1', overlays: { background: { imageUrl: 'asset://nobody/bg.png' } } } }, 400, 'OVERLAY_ASSET_NOT_FOUND'],
      ['PUT', '/api/layout-presets/n1', { headers: service, body: { overlays: { imageWatermark: { url: 'asset://keep/logo.svg' } } } }, 400, 'UNSUPPORTED_OPTION'],
    ];
    for (const [method, p, opts, status, code] of others) {
      const res = await api(method, p, opts);
      expect({ method, p, status: res.status, code: res.body.error?.code }).toEqual({ method, p, status, code });
    }
    expect({ keys: await storedKeys(), presets: await svc.db.prisma.layoutPreset.findMany({ orderBy: { name: 'asc' } }) }).toEqual(before);

    // at most 20 a preset
    await api('PUT', '/api/layout-presets/many', { headers: service, body: { layout: 'grid' } });
    for (let i = 0; i < 18; i++) expect((await upload(`many/assets/a${i}.png`, PNG)).status).toBe(201);
    // four at once for the last two places: two taken, two refused, never more than 20 stored
    const racing = await Promise.all([0, 1, 2, 3].map((i) => upload(`many/assets/race${i}.png`, PNG)));
    expect(racing.map((r) => r.status).sort()).toEqual([201, 201, 409, 409]);
    expect((await storedKeys()).filter((k) => k.includes('_presets/many/'))).toHaveLength(20);
    const tooMany = await upload('many/assets/one-more.png', PNG);
    expect([tooMany.status, tooMany.body.error.code]).toEqual([409, 'TOO_MANY_ASSETS']);
    expect((await api('DELETE', '/api/layout-presets/many', { headers: service })).status).toBe(200);
    expect(await storedKeys()).toEqual(before.keys);
  });

  test('a start, a live change and a preset take an asset that is there, and refuse one that is not, starting nothing', async () => {
    await api('PUT', '/api/layout-presets/look', { headers: service, body: { layout: 'speaker' } });
    expect((await upload('look/assets/logo.png', PNG)).status).toBe(201);
    await api('PUT', '/api/layout-presets/look', { headers: service, body: { layout: 'speaker', overlays: { imageWatermark: { url: 'asset://look/logo.png', position: 'bottom-left' } } } });
    const callId = `pa-${provider}`;
    const token = await userToken('host-1', { rooms: [`room-${callId}`] });
    expect((await api('POST', '/api/video-calls', { token, body: { id: callId, roomName: `room-${callId}`, hostId: 'host-1', participantIds: [] } })).status).toBe(201);

    const missing = await api('POST', `/api/video-calls/${callId}/recording/start`, { token: host, body: { overlays: { background: { imageUrl: 'asset://look/bg.png' } } } });
    expect([missing.status, missing.body.error.code]).toEqual([400, 'OVERLAY_ASSET_NOT_FOUND']);
    expect(await svc.db.prisma.callRecording.count({ where: { callId } })).toBe(0);

    const start = await api('POST', `/api/video-calls/${callId}/recording/start`, { token: host, body: { preset: 'look' } });
    expect(start.status).toBe(201);
    const id = start.body.data.id as string;
    const recPath = `/api/video-calls/${callId}/recording/${id}`;
    await waitFor(async () => (await api('GET', recPath, { token: host })).body.data.status === 'RECORDING', 15000, 'RECORDING');
    expect(recorder.started.find((r) => r.id === id)!.options.overlays).toMatchObject({ imageWatermark: { url: 'asset://look/logo.png', position: 'bottom-left' } });

    // a live change naming a missing asset changes nothing; one leaving the overlays as they are is not checked again
    const bad = await api('PATCH', recPath, { token: host, body: { overlays: { imageWatermark: { url: 'asset://look/none.png' } } } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'OVERLAY_ASSET_NOT_FOUND']);
    expect(recorder.updates.filter((u) => u.id === id)).toHaveLength(0);
    expect((await upload('look/assets/bg.png', PNG)).status).toBe(201);
    const ok = await api('PATCH', recPath, { token: host, body: { overlays: { background: { imageUrl: 'asset://look/bg.png' } } } });
    expect([ok.status, ok.body.data.options.overlays]).toEqual([200, { background: { imageUrl: 'asset://look/bg.png' } }]);
    await api('DELETE', '/api/layout-presets/look/assets/bg.png', { headers: service });
    expect((await api('PATCH', recPath, { token: host, body: { layout: 'grid' } })).status).toBe(200);
    await api('POST', `/api/video-calls/${callId}/recording/stop`, { token: host });
  });

  test('the studio draws an asset as the worker reads it, and checks that it is there', async () => {
    await api('PUT', '/api/layout-presets/studio', { headers: service, body: { layout: 'grid' } });
    expect((await upload('studio/assets/logo.png', PNG)).status).toBe(201);
    const image = await api('POST', '/api/studio/image', { token: user, body: { url: 'asset://studio/logo.png' } });
    expect([image.status, image.body.data.dataUrl]).toEqual([200, `data:image/png;base64,${PNG.toString('base64')}`]);
    const gone = await api('POST', '/api/studio/image', { token: user, body: { url: 'asset://studio/gone.png' } });
    expect([gone.status, gone.body.error.code]).toEqual([400, 'OVERLAY_ASSET_NOT_FOUND']);
    const check = await api('POST', '/api/studio/check', { token: user, body: { overlays: { background: { imageUrl: 'asset://studio/gone.png' } } } });
    expect([check.status, check.body.error.code]).toEqual([400, 'OVERLAY_ASSET_NOT_FOUND']);
    expect((await api('POST', '/api/studio/check', { token: user, body: { overlays: { background: { imageUrl: 'asset://studio/logo.png' } } } })).status).toBe(200);
  });
});
