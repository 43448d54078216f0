import type { NewWebhookDelivery, WebhookDeliveryRow, WebhookOutbox } from '../recordings/webhook-outbox';
import { claimLeases } from './leases';
import type { PrismaClient } from './prisma';

/**
 * The webhook outbox on the WebhookDelivery table, its rows claimed as every durable job is
 * (leases.ts).
 */
export class PrismaWebhookOutbox implements WebhookOutbox {
  constructor(private readonly prisma: PrismaClient) {}

  async add(rows: NewWebhookDelivery[]): Promise<void> {
    await this.prisma.webhookDelivery.createMany({ data: rows });
  }

  /** Claims up to `limit` due deliveries to `urls`, oldest first, each leased until `leaseUntil`. */
  async claimDue(urls: string[], now: Date, leaseUntil: Date, limit: number): Promise<WebhookDeliveryRow[]> {
    if (limit <= 0 || urls.length === 0) return [];
    const due = await this.prisma.webhookDelivery.findMany({
      where: { url: { in: urls }, deliveredAt: null, failedAt: null, nextAttemptAt: { lte: now } },
      orderBy: { createdAt: 'asc' },
      take: limit,
    });
    const claimed = await claimLeases(due, leaseUntil, async (d, claim) => {
      const res = await this.prisma.webhookDelivery.updateMany({
        where: { id: d.id, attempts: d.attempts, nextAttemptAt: d.nextAttemptAt, deliveredAt: null, failedAt: null },
        data: claim,
      });
      return res.count === 1;
    });
    return claimed.map((d) => ({ id: d.id, eventId: d.eventId, url: d.url, event: d.event, body: d.body, attempts: d.attempts }));
  }

  async delivered(id: string): Promise<void> {
    await this.prisma.webhookDelivery.update({ where: { id }, data: { deliveredAt: new Date(), lastError: null } });
  }

  async retryAt(id: string, at: Date, error: string): Promise<void> {
    await this.prisma.webhookDelivery.update({ where: { id }, data: { nextAttemptAt: at, lastError: error.slice(0, 2000) } });
  }

  async failed(id: string, error: string): Promise<void> {
    await this.prisma.webhookDelivery.update({ where: { id }, data: { failedAt: new Date(), lastError: error.slice(0, 2000) } });
  }

  /**
   * Deletes rows older than `before`, sent or not: retries give up within minutes (WEBHOOK_*), so an
   * old pending row is for a URL no longer configured or a deployment that was down for days.
   */
  async prune(before: Date): Promise<number> {
    const res = await this.prisma.webhookDelivery.deleteMany({ where: { createdAt: { lt: before } } });
    return res.count;
  }

  /** Deliveries not yet sent or given up. */
  pending(): Promise<number> {
    return this.prisma.webhookDelivery.count({ where: { deliveredAt: null, failedAt: null } });
  }
}
