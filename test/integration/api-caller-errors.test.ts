import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createService, type Service } from '../../src/app/http';
import { createLogger } from '../../src/observability/logger';
import { createPostprocessing, type Postprocessing } from '../../src/postprocess/service-adapter';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, testConfig, userToken } from './recordings-harness';

/**
 * What the router and the body parser refuse is the caller's fault: a 4xx with a stable
 * code, logged as a warning without a stack, never 500 INTERNAL.
 */
describe('API: malformed requests the framework refuses', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: Service;
  let pp: Postprocessing;
  let http: Awaited<ReturnType<typeof listen>>;
  let host: string;
  const logs: { level: string; msg: string; err?: unknown; stack?: unknown }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('callererr');
    const config = testConfig({ DATABASE_URL: db.url });
    const sink = new Writable({
      write(line: Buffer, _enc, done) {
        logs.push(JSON.parse(line.toString()));
        done();
      },
    });
    pp = createPostprocessing(config);
    svc = await createService(config, {
      recorder: new FfmpegTestRecorder(),
      postprocess: pp.postprocess,
      storage: pp.recordingStorage,
      signedFiles: pp.signedFiles!,
      presence: false,
      logger: createLogger('info', sink),
    });
    await svc.start();
    http = await listen(svc.app);
    host = await userToken('host-1', { rooms: ['room-gz'] });
  });
  afterAll(async () => {
    await http?.close();
    await svc?.close();
    await pp?.close();
    await db?.drop();
  });
  beforeEach(() => {
    logs.length = 0;
  });

  const notGzip = Buffer.from('{"roomName":"room-x","hostId":"host-1"}');
  const cases: [string, string, string, { token?: boolean; headers?: Record<string, string>; raw?: Buffer }, number, string][] = [
    ['a file path that does not decode', 'GET', '/files/%E0%A4%A?expires=1&signature=x', {}, 400, 'VALIDATION_ERROR'],
    ['a call id that does not decode', 'GET', '/api/video-calls/%zz', { token: true }, 400, 'VALIDATION_ERROR'],
    ['a recording id that does not decode', 'DELETE', '/api/video-calls/c/recording/%E0%A4%A', { token: true }, 400, 'VALIDATION_ERROR'],
    ...(['gzip', 'deflate', 'br'].map((enc) => [
      `a body labelled ${enc} that is not`, 'POST', '/api/video-calls',
      { token: true, raw: notGzip, headers: { 'content-type': 'application/json', 'content-encoding': enc } }, 400, 'VALIDATION_ERROR',
    ]) as [string, string, string, { token?: boolean; headers?: Record<string, string>; raw?: Buffer }, number, string][]),
    ['an encoding we do not know', 'POST', '/api/video-calls', { token: true, raw: notGzip, headers: { 'content-type': 'application/json', 'content-encoding': 'x-nope' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a gzip body that inflates past the limit', 'POST', '/api/video-calls',
      { token: true, raw: gzipSync(Buffer.from(JSON.stringify({ roomName: 'r', hostId: 'h', participantIds: Array.from({ length: 20000 }, (_, i) => `u${i}`) }))), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } },
      413, 'PAYLOAD_TOO_LARGE'],
  ];

  test.each(cases)('%s: 4xx with a stable code, a warning without a stack', async (_name, method, path, opts, status, code) => {
    const res = await fetch(http.url + path, {
      method,
      headers: { ...(opts.token ? { authorization: `Bearer ${host}` } : {}), ...opts.headers },
      ...(opts.raw ? { body: opts.raw } : {}),
    });
    const body = (await res.json()) as unknown;
    expect({ status: res.status, body }).toEqual({ status, body: { success: false, error: { code, message: expect.any(String) } } });
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
    const warned = logs.filter((l) => l.level === 'warn' && l.msg === 'request refused');
    expect(warned).toHaveLength(1);
    expect(JSON.stringify(warned[0])).not.toMatch(/stack|\s+at\s/);
  });

  test('without credentials an undecodable call id is refused like any other path: 401', async () => {
    const res = await call(http.url, 'GET', '/api/video-calls/%zz');
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  });

  test('a body that really is gzip is read', async () => {
    const res = await fetch(`${http.url}/api/video-calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${host}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(Buffer.from(JSON.stringify({ id: 'gz-1', roomName: 'room-gz', hostId: 'host-1' }))),
    });
    expect(res.status).toBe(201);
    expect((await call(http.url, 'GET', '/api/video-calls/gz-1', { token: host })).status).toBe(200);
  });
});
