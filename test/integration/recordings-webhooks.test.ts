import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createService } from '../../src/app/http';
import { openDatabase, type Database } from '../../src/db/client';
import { RecordingEventBus } from '../../src/recordings/events';
import type { RetryPolicy } from '../../src/recordings/failure-policy';
import { PrismaWebhookOutbox } from '../../src/db/webhook-outbox';
import { SIGNATURE_HEADER, verifyWebhookSignature, WebhookSender } from '../../src/recordings/webhooks';
import { freePort } from '../helpers/ports';
import { createTestDatabase } from '../helpers/services/postgres';
import { FfmpegTestRecorder, testConfig, waitFor } from './recordings-harness';

/** Outgoing webhooks to a receiver on 127.0.0.1, through the outbox on PostgreSQL: signed, retried with backoff, durable, never blocking. */
/** The configured retry numbers (WEBHOOK_*), with the waits these tests need. */
const retry = (r: Partial<RetryPolicy> = {}): RetryPolicy => ({ ...testConfig().webhooks.retry, ...r });
interface Hit {
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function receiver(respond: (hit: Hit, n: number) => number | 'hang', port = 0) {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const hit = { headers: req.headers, body };
      hits.push(hit);
      const status = respond(hit, hits.length);
      if (status === 'hang') return;
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  return {
    url,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const SECRET = 'webhook-secret-for-tests';
const sample = { recordingId: 'r1', callId: 'c1', roomName: 'room', status: 'COMPLETED' as const, at: new Date().toISOString(), url: null, durationMs: 1, fileSize: 2 };

describe('outgoing webhooks', () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  let outbox: PrismaWebhookOutbox;
  beforeAll(async () => {
    testDb = await createTestDatabase('hookbox');
    db = await openDatabase({ url: testDb.url });
    outbox = new PrismaWebhookOutbox(db.prisma);
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });
  const rowsFor = (url: string) => db.prisma.webhookDelivery.findMany({ where: { url }, orderBy: { createdAt: 'asc' } });

  test('signed with HMAC-SHA256; 5xx retried with backoff until 2xx; the row is marked delivered', async () => {
    const rx = await receiver((_h, n) => (n < 3 ? 503 : 204));
    const sender = new WebhookSender(outbox, { urls: [rx.url], secret: SECRET, retry: retry({ baseMs: 30 }), pollMs: 20 }).start();
    sender.send('recordingCompleted', sample);
    await waitFor(async () => (await rowsFor(rx.url))[0]?.deliveredAt, 5000, 'delivered');
    await new Promise((r) => setTimeout(r, 150));
    expect(rx.hits).toHaveLength(3);
    for (const [i, hit] of rx.hits.entries()) {
      expect(verifyWebhookSignature(SECRET, hit.headers[SIGNATURE_HEADER] as string, hit.body)).toBe(true);
      expect(verifyWebhookSignature('wrong-secret', hit.headers[SIGNATURE_HEADER] as string, hit.body)).toBe(false);
      expect(verifyWebhookSignature(SECRET, hit.headers[SIGNATURE_HEADER] as string, hit.body.replace('c1', 'c2'))).toBe(false);
      expect(hit.headers['x-recorder-attempt']).toBe(String(i + 1));
      expect(hit.headers['x-recorder-event']).toBe('recordingCompleted');
    }
    expect(new Set(rx.hits.map((h) => h.headers['x-recorder-delivery'])).size).toBe(1);
    expect(JSON.parse(rx.hits[0]!.body)).toMatchObject({ event: 'recordingCompleted', data: { recordingId: 'r1', callId: 'c1' } });
    const [row] = await rowsFor(rx.url);
    expect(row).toMatchObject({ attempts: 3, failedAt: null, lastError: null, eventId: rx.hits[0]!.headers['x-recorder-delivery'] });
    await sender.close();
    await rx.close();
  });

  test('4xx is not retried; exhausted retries are reported and kept as failed; a hanging receiver never blocks the emitter', async () => {
    const rx = await receiver(() => 400);
    const failed: { attempts: number }[] = [];
    const sender = new WebhookSender(outbox, { urls: [rx.url], secret: SECRET, retry: retry({ baseMs: 10 }), pollMs: 20, onDeliveryFailed: (i) => failed.push(i) }).start();
    sender.send('recordingDeleted', sample);
    await waitFor(() => failed.length === 1, 3000, 'failure report');
    expect(rx.hits).toHaveLength(1);
    expect((await rowsFor(rx.url))[0]).toMatchObject({ attempts: 1, failedAt: expect.any(Date), lastError: 'HTTP 400' });
    await sender.close();
    await rx.close();

    const dead = await receiver(() => 500);
    const failed2: { attempts: number }[] = [];
    const s2 = new WebhookSender(outbox, { urls: [dead.url], retry: retry({ maxAttempts: 3, baseMs: 10 }), pollMs: 20, onDeliveryFailed: (i) => failed2.push(i) }).start();
    s2.send('recordingDeleted', sample);
    await waitFor(() => failed2.length === 1, 3000, 'exhausted');
    expect(failed2[0]!.attempts).toBe(3);
    expect(dead.hits).toHaveLength(3);
    await s2.close();
    await dead.close();

    // emit() returns before anything is sent, let alone answered
    const hang = await receiver(() => 'hang');
    const bus = new RecordingEventBus();
    const s3 = new WebhookSender(outbox, { urls: [hang.url], secret: SECRET, timeoutMs: 300, retry: retry({ baseMs: 10_000 }), maxInFlight: 64 }).attach(bus);
    for (let i = 0; i < 50; i++) bus.emit('recordingCompleted', sample);
    expect(hang.hits).toHaveLength(0);
    await waitFor(() => hang.hits.length === 50, 5000, 'requests sent');
    const closing = Date.now();
    await s3.close(500);
    expect(Date.now() - closing).toBeLessThan(3000);
    await hang.close();
  });

  test('deliveries outlive the process: what one sender could not deliver, the next one sends, once', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hook`;
    const first = new WebhookSender(outbox, { urls: [url], secret: SECRET, retry: retry({ baseMs: 60_000, maxMs: 60_000 }), pollMs: 20 }).start();
    first.send('recordingStarted', { ...sample, status: 'RECORDING', startedAt: sample.at });
    first.send('recordingCompleted', sample);
    // nobody listens yet: each first attempt fails and waits a minute for its retry
    await waitFor(async () => {
      const rows = await rowsFor(url);
      return rows.length === 2 && rows.every((r) => r.attempts === 1 && r.lastError) ? rows : null;
    }, 5000, 'failed first attempts');
    await first.close();

    const rx = await receiver(() => 200, port);
    // the next process starts; the retries are due (here: made due now instead of in a minute)
    await db.prisma.webhookDelivery.updateMany({ where: { url }, data: { nextAttemptAt: new Date() } });
    const second = new WebhookSender(outbox, { urls: [url], secret: SECRET, retry: retry(), pollMs: 20 }).start();
    await waitFor(async () => (await rowsFor(url)).every((r) => r.deliveredAt), 5000, 'delivered by the second sender');
    expect(rx.hits.map((h) => JSON.parse(h.body).event).sort()).toEqual(['recordingCompleted', 'recordingStarted']);
    expect(rx.hits.map((h) => h.headers['x-recorder-attempt'])).toEqual(['2', '2']);
    expect(rx.hits.every((h) => verifyWebhookSignature(SECRET, h.headers[SIGNATURE_HEADER] as string, h.body))).toBe(true);
    await second.close();
    await rx.close();
  });

  test('two processes on one outbox send each event once', async () => {
    const rx = await receiver(() => 200);
    const [a, b] = [0, 1].map(() => new WebhookSender(outbox, { urls: [rx.url], retry: retry(), pollMs: 5 }).start());
    for (let i = 0; i < 20; i++) (i % 2 ? a! : b!).send('recordingProgress', { ...sample, status: 'UPLOADING', phase: 'postprocess', percent: i });
    await waitFor(async () => (await rowsFor(rx.url)).filter((r) => r.deliveredAt).length === 20, 10000, '20 delivered');
    await new Promise((r) => setTimeout(r, 100));
    const ids = rx.hits.map((h) => h.headers['x-recorder-delivery']);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    await Promise.all([a!.close(), b!.close()]);
    await rx.close();
  });

  test('a URL no longer configured is not sent to; rows older than the retention are pruned, sent or not', async () => {
    const rx = await receiver(() => 200);
    await outbox.add([{ id: randomUUID(), eventId: randomUUID(), url: rx.url, event: 'recordingStarted', body: '{}' }]);
    const other = new WebhookSender(outbox, { urls: ['http://127.0.0.1:9/elsewhere'], retry: retry(), pollMs: 10 }).start();
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.hits).toHaveLength(0);
    await other.close();
    const recent = await db.prisma.webhookDelivery.count();
    const fresh = { id: randomUUID(), eventId: randomUUID(), url: rx.url, event: 'recordingStarted', body: '{}' };
    await db.prisma.webhookDelivery.updateMany({ data: { createdAt: new Date(Date.now() - 8 * 86_400_000) } });
    await outbox.add([fresh]);
    expect(await outbox.prune(new Date(Date.now() - 7 * 86_400_000))).toBe(recent);
    expect((await db.prisma.webhookDelivery.findMany()).map((r) => r.id)).toEqual([fresh.id]);
    expect(await outbox.pending()).toBe(1);
    await rx.close();
  });

  test('a service sends every event of a recording to its webhook URLs', async () => {
    const rx = await receiver(() => 200);
    const db = await createTestDatabase('hooks');
    const svc = await createService(testConfig({ DATABASE_URL: db.url, WEBHOOK_URLS: rx.url, WEBHOOK_SECRET: SECRET }), {
      recorder: new FfmpegTestRecorder(),
      presence: false,
      tuning: { webhooks: { exclude: ['recordingProgress'] } },
    });
    try {
      const host = { kind: 'user' as const, userId: 'h', rooms: ['room-wh'] };
      await svc.recordings.createCall(host, { id: 'wh', roomName: 'room-wh', hostId: 'h' });
      const { recording } = await svc.recordings.startRecording(host, 'wh', {});
      await waitFor(() => rx.hits.some((h) => h.headers['x-recorder-event'] === 'recordingStarted'), 10000, 'started');
      await svc.recordings.stopRecording(host, 'wh');
      // deliveries run side by side: the order of arrival is not the order of the events (each carries its `at`)
      const expected = ['recordingStarted', 'recordingStopping', 'recordingProcessing', 'recordingUploaded', 'recordingCompleted'];
      const eventsOf = () => rx.hits.map((h) => JSON.parse(h.body)).filter((b) => b.data.recordingId === recording.id).map((b) => b.event as string);
      await waitFor(() => expected.every((e) => eventsOf().includes(e)), 10000, 'every event');
      expect(rx.hits.every((h) => verifyWebhookSignature(SECRET, h.headers[SIGNATURE_HEADER] as string, h.body))).toBe(true);
    } finally {
      await svc.close();
      await db.drop();
      await rx.close();
    }
  });
});
