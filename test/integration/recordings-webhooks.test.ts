import http from 'node:http';
import { createService } from '../../src/api/service';
import { RecordingEventBus } from '../../src/recordings/events';
import { SIGNATURE_HEADER, verifyWebhookSignature, WebhookSender } from '../../src/recordings/webhooks';
import { createTestDatabase } from '../helpers/services/postgres';
import { FfmpegTestRecorder, testConfig, waitFor } from './recordings-harness';

/** Outgoing webhooks to a receiver on 127.0.0.1: signed, retried with backoff, never blocking. */
interface Hit {
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function receiver(respond: (hit: Hit, n: number) => number | 'hang') {
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
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
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
  test('signed with HMAC-SHA256; 5xx retried with backoff until 2xx', async () => {
    const rx = await receiver((_h, n) => (n < 3 ? 503 : 204));
    const sender = new WebhookSender({ urls: [rx.url], secret: SECRET, baseDelayMs: 30 });
    sender.send('recordingCompleted', sample);
    await waitFor(() => rx.hits.length === 3, 5000, '3 deliveries');
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
    await sender.close();
    await rx.close();
  });

  test('4xx is not retried; exhausted retries are reported; a hanging receiver never blocks the emitter', async () => {
    const rx = await receiver(() => 400);
    const failed: unknown[] = [];
    const sender = new WebhookSender({ urls: [rx.url], secret: SECRET, baseDelayMs: 10, onDeliveryFailed: (i) => failed.push(i) });
    sender.send('recordingDeleted', sample);
    await waitFor(() => failed.length === 1, 3000, 'failure report');
    expect(rx.hits).toHaveLength(1);
    await sender.close();
    await rx.close();

    const dead = await receiver(() => 500);
    const failed2: { attempts: number }[] = [];
    const s2 = new WebhookSender({ urls: [dead.url], maxAttempts: 3, baseDelayMs: 10, onDeliveryFailed: (i) => failed2.push(i) });
    s2.send('recordingDeleted', sample);
    await waitFor(() => failed2.length === 1, 3000, 'exhausted');
    expect(failed2[0]!.attempts).toBe(3);
    expect(dead.hits).toHaveLength(3);
    await s2.close();
    await dead.close();

    const hang = await receiver(() => 'hang');
    const bus = new RecordingEventBus();
    const s3 = new WebhookSender({ urls: [hang.url], secret: SECRET, timeoutMs: 200, baseDelayMs: 10_000 }).attach(bus);
    const t = process.hrtime.bigint();
    for (let i = 0; i < 50; i++) bus.emit('recordingCompleted', sample);
    expect(Number(process.hrtime.bigint() - t) / 1e6).toBeLessThan(100);
    await waitFor(() => hang.hits.length === 50, 3000, 'requests sent');
    const closing = Date.now();
    await s3.close(500);
    expect(Date.now() - closing).toBeLessThan(2000);
    await hang.close();
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
      const host = { kind: 'user' as const, userId: 'h' };
      await svc.recordings.createCall(host, { id: 'wh', roomName: 'room-wh', hostId: 'h' });
      const { recording } = await svc.recordings.startRecording(host, 'wh', {});
      await waitFor(() => rx.hits.some((h) => h.headers['x-recorder-event'] === 'recordingStarted'), 10000, 'started');
      await svc.recordings.stopRecording(host, 'wh');
      await waitFor(() => rx.hits.some((h) => h.headers['x-recorder-event'] === 'recordingCompleted'), 10000, 'completed');
      const events = rx.hits.map((h) => JSON.parse(h.body)).filter((b) => b.data.recordingId === recording.id).map((b) => b.event);
      expect(events).toEqual(expect.arrayContaining(['recordingStarted', 'recordingStopping', 'recordingProcessing', 'recordingUploaded', 'recordingCompleted']));
      expect(rx.hits.every((h) => verifyWebhookSignature(SECRET, h.headers[SIGNATURE_HEADER] as string, h.body))).toBe(true);
    } finally {
      await svc.close();
      await db.drop();
      await rx.close();
    }
  });
});
