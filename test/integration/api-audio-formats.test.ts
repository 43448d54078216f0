import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createService, type Service } from '../../src/app/http';
import { createPostprocessing, type Postprocessing } from '../../src/postprocess/service-adapter';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, testConfig, tmpDir, userToken, waitFor } from './recordings-harness';

/**
 * Audio-only delivery through HTTP: format m4a / ogg asks the recorder (the ffmpeg double)
 * for mkv, and post-processing delivers an audio-only file to local storage.
 */
jest.setTimeout(60_000);

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let svc: Service;
let pp: Postprocessing;
let recorder: FfmpegTestRecorder;
let url: string;
let closeHttp: () => Promise<void>;
let host: string;

beforeAll(async () => {
  db = await createTestDatabase('audiofmt');
  host = await userToken('host-1');
  const config = testConfig({ DATABASE_URL: db.url, POSTPROCESS_RETRY_BASE_SECONDS: '0.1' });
  pp = createPostprocessing(config);
  recorder = new FfmpegTestRecorder();
  svc = await createService(config, {
    recorder,
    postprocess: pp.postprocess,
    storage: pp.recordingStorage,
    presence: false,
    tuning: { postprocess: { pollMs: 100 } },
  });
  await svc.start();
  const http = await listen(svc.app);
  url = http.url;
  closeHttp = http.close;
});
afterAll(async () => {
  await closeHttp?.();
  await svc?.close();
  await pp?.close();
  await db?.drop();
});

function probe(file: string): { codec_type: string; codec_name: string }[] {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name', '-of', 'json', file], { encoding: 'utf8' });
  return (JSON.parse(out) as { streams: { codec_type: string; codec_name: string }[] }).streams.map((s) => ({ codec_type: s.codec_type, codec_name: s.codec_name }));
}

test.each([
  ['m4a', 'audio/mp4', 'aac'],
  ['ogg', 'audio/ogg', 'opus'],
])('format %s: the recorder writes mkv, the stored recording is audio-only (%s, %s)', async (format, contentType, codec) => {
  const callId = `audio-${format}-${Date.now().toString(36)}`;
  expect((await call(url, 'POST', '/api/video-calls', { token: await userToken('host-1', { rooms: [`room-${callId}`] }), body: { id: callId, roomName: `room-${callId}`, hostId: 'host-1' } })).status).toBe(201);
  const start = await call(url, 'POST', `/api/video-calls/${callId}/recording/start`, { token: host, body: { format } });
  expect(start.status).toBe(201);
  const id = start.body.data.id as string;
  const req = recorder.started.find((r) => r.id === id)!;
  expect(req.options.format).toBe('mkv');
  expect(req.outputPath.endsWith('.mkv')).toBe(true);
  await waitFor(async () => (await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).status === 'RECORDING', 15_000, 'RECORDING');
  await new Promise((r) => setTimeout(r, 1200));
  expect((await call(url, 'POST', `/api/video-calls/${callId}/recording/stop`, { token: host })).status).toBe(200);

  const done = await waitFor(async () => {
    const r = await call(url, 'GET', `/api/video-calls/${callId}/recording/${id}`, { token: host });
    if (r.body.data?.status === 'FAILED') throw new Error(`FAILED: ${JSON.stringify(r.body.data.error)}`);
    return r.body.data?.status === 'COMPLETED' ? r.body.data : null;
  }, 30_000, 'COMPLETED');
  expect(done.format).toBe(format);
  expect(done.thumbnails).toEqual([]);
  const row = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
  expect(row.outputFormat).toBe(format);
  expect(path.basename(row.storageKey!)).toBe(`recording.${format}`);
  expect((await pp.storage.head(row.storageKey!))!.contentType).toBe(contentType);

  const dl = await fetch(`${url}/api/video-calls/${callId}/recording/${id}/download`, { headers: { authorization: `Bearer ${host}` } });
  expect(dl.status).toBe(200);
  expect(dl.headers.get('content-type')).toContain(contentType);
  expect(dl.headers.get('content-disposition') ?? '').toContain(`.${format}`);
  const file = path.join(tmpDir('audio-dl-'), `recording.${format}`);
  fs.writeFileSync(file, Buffer.from(await dl.arrayBuffer()));
  expect(probe(file)).toEqual([{ codec_type: 'audio', codec_name: codec }]);
});

test('an unknown format is refused', async () => {
  const callId = `audio-bad-${Date.now().toString(36)}`;
  await call(url, 'POST', '/api/video-calls', { token: await userToken('host-1', { rooms: [`room-${callId}`] }), body: { id: callId, roomName: `room-${callId}`, hostId: 'host-1' } });
  const r = await call(url, 'POST', `/api/video-calls/${callId}/recording/start`, { token: host, body: { format: 'flac' } });
  expect(r.status).toBe(400);
});
