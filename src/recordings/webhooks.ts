import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError, isRefusal } from '../errors';
import type { RecordingEventBus, RecordingEventMap, RecordingEventName } from './events';
import { afterFailedAttempt, type RetryPolicy } from './failure-policy';
import type { WebhookDeliveryRow, WebhookOutbox } from './webhook-outbox';

/**
 * Outgoing webhooks for every recording event: a JSON POST per URL, signed with
 * HMAC-SHA256 over `${timestamp}.${body}` (header `X-Recorder-Signature: t=<unix s>,v1=<hex>`),
 * retried as failure-policy.ts decides (network errors, 5xx, 408 and 429; not another 4xx or
 * a redirect), with its backoff. Each request is a row of the webhook outbox before it is
 * sent, so deliveries survive a restart and any process with the same URL configured sends them (at least once: receivers dedupe on
 * X-Recorder-Delivery). Emitting an event never waits for the database or a receiver.
 */
export interface WebhookOptions {
  urls: string[];
  secret?: string;
  /** Attempts per delivery and the waits between them (config.webhooks.retry). */
  retry: RetryPolicy;
  /** Per-request timeout (default 5000 ms). */
  timeoutMs?: number;
  /** How often the outbox is read for due retries and deliveries of other processes (default 1000 ms). */
  pollMs?: number;
  /** Requests in flight at once (default 16). */
  maxInFlight?: number;
  /** Rows are deleted after this many days, sent or not (default 7). */
  keepDays?: number;
  /** Events not to send (e.g. recordingProgress). */
  exclude?: RecordingEventName[];
  onDeliveryFailed?: (info: { url: string; event: string; deliveryId: string; attempts: number; error: string }) => void;
  /** The outbox itself failed (database down); the rows stay and are sent later. */
  onError?: (err: unknown) => void;
}

export const SIGNATURE_HEADER = 'x-recorder-signature';

export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** For receivers (and tests): checks the signature header against the raw body. */
export function verifyWebhookSignature(secret: string, header: string | undefined, body: string, toleranceSeconds = 300, now = Date.now()): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isFinite(t) || !parts.v1 || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, body, t).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export class WebhookSender {
  private readonly inFlight = new Map<string, { done: Promise<void>; abort: AbortController }>();
  /** Outbox writes of send() not yet done: close() waits for them. */
  private readonly adding = new Set<Promise<void>>();
  private draining?: Promise<void>;
  private drainAgain = false;
  private timer?: NodeJS.Timeout;
  private lastPrune = 0;
  private closed = false;
  private unsubscribe?: () => void;

  constructor(
    private readonly outbox: WebhookOutbox,
    private readonly opts: WebhookOptions,
  ) {}

  /** Sends every event of the bus (minus `exclude`), and starts sending what the outbox holds. */
  attach(bus: RecordingEventBus): this {
    if (this.opts.urls.length === 0) return this;
    const exclude = new Set(this.opts.exclude ?? []);
    this.unsubscribe = bus.onAny((name, payload) => {
      if (!exclude.has(name)) this.send(name, payload);
    });
    this.start();
    return this;
  }

  /** Polls the outbox: retries that came due, and rows left by a process that stopped. */
  start(): this {
    if (this.timer || this.opts.urls.length === 0) return this;
    this.timer = setInterval(() => this.kick(), this.opts.pollMs ?? 1000);
    this.timer.unref();
    this.kick();
    return this;
  }

  /** Stores one event for every URL and sends it; returns at once. */
  send<K extends RecordingEventName>(event: K, data: RecordingEventMap[K]): void {
    if (this.closed || this.opts.urls.length === 0) return;
    const eventId = randomUUID();
    const body = JSON.stringify({ id: eventId, event, createdAt: new Date().toISOString(), data });
    const added = this.outbox
      .add(this.opts.urls.map((url) => ({ id: randomUUID(), eventId, url, event, body })))
      .then(() => this.kick())
      .catch((err) => this.opts.onError?.(err))
      .finally(() => this.adding.delete(added));
    this.adding.add(added);
  }

  /** Sends what is due now; a call while sending makes it look again when done. */
  private kick(): void {
    if (this.closed) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = (async () => {
      do {
        this.drainAgain = false;
        await this.drain();
      } while (this.drainAgain && !this.closed);
      await this.prune();
    })()
      .catch((err) => this.opts.onError?.(err))
      .finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    const max = this.opts.maxInFlight ?? 16;
    while (!this.closed) {
      const room = max - this.inFlight.size;
      if (room <= 0) return;
      const now = Date.now();
      // the lease outlasts the request's timeout, so no one else sends the row meanwhile
      const lease = new Date(now + (this.opts.timeoutMs ?? 5000) + 10_000);
      const rows = await this.outbox.claimDue(this.opts.urls, new Date(now), lease, room);
      for (const row of rows) this.deliver(row);
      if (rows.length < room) return;
    }
  }

  private deliver(row: WebhookDeliveryRow): void {
    const abort = new AbortController();
    const done = this.post(row, abort.signal)
      .then((outcome) => this.record(row, outcome))
      .catch((err) => this.opts.onError?.(err))
      .finally(() => {
        this.inFlight.delete(row.id);
        this.kick();
      });
    this.inFlight.set(row.id, { done, abort });
  }

  private async record(row: WebhookDeliveryRow, outcome: 'ok' | AppError): Promise<void> {
    if (outcome === 'ok') return this.outbox.delivered(row.id);
    const next = afterFailedAttempt(outcome, row.attempts, this.opts.retry);
    // cut short by close(): due again at once, for the next process
    if (next.retry) return this.outbox.retryAt(row.id, new Date(Date.now() + (this.closed ? 0 : next.delayMs)), outcome.message);
    await this.outbox.failed(row.id, outcome.message);
    this.opts.onDeliveryFailed?.({ url: row.url, event: row.event, deliveryId: row.eventId, attempts: row.attempts, error: outcome.message });
  }

  private async post(row: WebhookDeliveryRow, signal: AbortSignal): Promise<'ok' | AppError> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 5000);
    try {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'livekit-recorder-webhooks',
        'x-recorder-event': row.event,
        'x-recorder-delivery': row.eventId,
        'x-recorder-attempt': String(row.attempts),
      };
      if (this.opts.secret) headers[SIGNATURE_HEADER] = signWebhook(this.opts.secret, row.body, Math.floor(Date.now() / 1000));
      const res = await fetch(row.url, { method: 'POST', headers, body: row.body, signal: AbortSignal.any([signal, timeout]), redirect: 'manual' });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return 'ok';
      return new AppError(isRefusal(res.status) ? 'WEBHOOK_REJECTED' : 'WEBHOOK_UNREACHABLE', `HTTP ${res.status}`);
    } catch (err) {
      return new AppError('WEBHOOK_UNREACHABLE', err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  private async prune(): Promise<void> {
    if (Date.now() - this.lastPrune < 3_600_000) return;
    this.lastPrune = Date.now();
    await this.outbox.prune(new Date(Date.now() - (this.opts.keepDays ?? 7) * 86_400_000));
  }

  /**
   * Stops sending; waits up to `graceMs` for requests in flight, then aborts them. What is
   * not delivered stays in the outbox for the next process.
   */
  async close(graceMs = 2000): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.adding]);
    const timer = setTimeout(() => this.inFlight.forEach((f) => f.abort.abort()), graceMs);
    await Promise.allSettled([...this.inFlight.values()].map((f) => f.done));
    clearTimeout(timer);
    await this.draining;
  }
}
