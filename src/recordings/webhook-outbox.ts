/** One outgoing webhook request as stored: an event for one URL. */
export interface WebhookDeliveryRow {
  id: string;
  eventId: string;
  url: string;
  event: string;
  body: string;
  /** Attempts so far, the one just claimed included. */
  attempts: number;
}

export type NewWebhookDelivery = Pick<WebhookDeliveryRow, 'id' | 'eventId' | 'url' | 'event' | 'body'>;

/**
 * The port of the durable webhook outbox (the database implements it: src/db/webhook-outbox.ts).
 * A claim is a conditional write, so two processes polling the same outbox never send the
 * same attempt twice; it holds a lease that a dead process simply lets run out.
 */
export interface WebhookOutbox {
  add(rows: NewWebhookDelivery[]): Promise<void>;
  /** Claims up to `limit` due deliveries to `urls`, oldest first, each leased until `leaseUntil`. */
  claimDue(urls: string[], now: Date, leaseUntil: Date, limit: number): Promise<WebhookDeliveryRow[]>;
  delivered(id: string): Promise<void>;
  /** Due again at `at`, keeping the error. */
  retryAt(id: string, at: Date, error: string): Promise<void>;
  /** Given up, keeping the error. */
  failed(id: string, error: string): Promise<void>;
  /** Deletes deliveries created before `before`, sent or not; returns how many. */
  prune(before: Date): Promise<number>;
  /** Deliveries not yet sent or given up. */
  pending(): Promise<number>;
}
