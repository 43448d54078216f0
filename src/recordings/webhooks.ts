import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { RecordingEventBus, RecordingEventMap, RecordingEventName } from './events';

/**
 * Outgoing webhooks for every recording event: a JSON POST per URL, signed with
 * HMAC-SHA256 over `${timestamp}.${body}` (header `X-Recorder-Signature: t=<unix s>,v1=<hex>`),
 * retried with exponential backoff on network errors, 5xx, 408 and 429. Delivery runs in the
 * background: emitting an event never waits for a receiver. Deliveries live in memory;
 * those still pending at shutdown are dropped after close()'s grace period.
 */
export interface WebhookOptions {
  urls: string[];
  secret?: string;
  /** Attempts per delivery, the first included (default 6). */
  maxAttempts?: number;
  /** First retry delay; doubled each time, with jitter (default 1000 ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-request timeout (default 5000 ms). */
  timeoutMs?: number;
  /** Events not to send (e.g. recordingProgress). */
  exclude?: RecordingEventName[];
  onDeliveryFailed?: (info: { url: string; event: string; deliveryId: string; attempts: number; error: string }) => void;
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
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private closed = false;
  private unsubscribe?: () => void;

  constructor(private readonly opts: WebhookOptions) {}

  /** Sends every event of the bus (minus `exclude`). */
  attach(bus: RecordingEventBus): this {
    if (this.opts.urls.length === 0) return this;
    const exclude = new Set(this.opts.exclude ?? []);
    this.unsubscribe = bus.onAny((name, payload) => {
      if (!exclude.has(name)) this.send(name, payload);
    });
    return this;
  }

  /** Queues one event for every URL; returns at once. */
  send<K extends RecordingEventName>(event: K, data: RecordingEventMap[K]): void {
    if (this.closed) return;
    const deliveryId = randomUUID();
    const body = JSON.stringify({ id: deliveryId, event, createdAt: new Date().toISOString(), data });
    for (const url of this.opts.urls) this.attempt(url, event, deliveryId, body, 1);
  }

  private attempt(url: string, event: string, deliveryId: string, body: string, n: number): void {
    if (this.closed) return;
    const p = this.post(url, event, deliveryId, body, n).then((outcome) => {
      if (outcome === 'ok') return;
      const max = this.opts.maxAttempts ?? 6;
      if (outcome.retry && n < max && !this.closed) {
        const base = this.opts.baseDelayMs ?? 1000;
        const delay = Math.min(this.opts.maxDelayMs ?? 60_000, base * 2 ** (n - 1)) * (0.75 + Math.random() * 0.5);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.attempt(url, event, deliveryId, body, n + 1);
        }, delay);
        timer.unref();
        this.timers.add(timer);
      } else {
        this.opts.onDeliveryFailed?.({ url, event, deliveryId, attempts: n, error: outcome.error });
      }
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async post(url: string, event: string, deliveryId: string, body: string, n: number): Promise<'ok' | { retry: boolean; error: string }> {
    const ac = new AbortController();
    this.controllers.add(ac);
    const timer = setTimeout(() => ac.abort(), this.opts.timeoutMs ?? 5000);
    try {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'livekit-recorder-webhooks',
        'x-recorder-event': event,
        'x-recorder-delivery': deliveryId,
        'x-recorder-attempt': String(n),
      };
      if (this.opts.secret) headers[SIGNATURE_HEADER] = signWebhook(this.opts.secret, body, Math.floor(Date.now() / 1000));
      const res = await fetch(url, { method: 'POST', headers, body, signal: ac.signal, redirect: 'manual' });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return 'ok';
      return { retry: res.status >= 500 || res.status === 408 || res.status === 429, error: `HTTP ${res.status}` };
    } catch (err) {
      return { retry: true, error: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
      this.controllers.delete(ac);
    }
  }

  /** Stops retrying; waits up to `graceMs` for requests in flight, then aborts them. */
  async close(graceMs = 2000): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const all = Promise.allSettled([...this.inFlight]);
    const timer = setTimeout(() => this.controllers.forEach((c) => c.abort()), graceMs);
    await all;
    clearTimeout(timer);
  }
}
