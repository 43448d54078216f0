import { WebhookReceiver } from 'livekit-server-sdk';
import type { Config } from '../config';
import { AppError } from '../errors';

/** A verified LiveKit webhook, reduced to what the recordings domain uses. */
export interface LivekitEvent {
  id: string;
  event: string;
  roomName?: string;
  participantIdentity?: string;
}

/** Checks LiveKit's signed webhook (Authorization: a JWT over the body's sha256). */
export class LivekitWebhookVerifier {
  private readonly receiver: WebhookReceiver;

  constructor(config: Config['livekit']) {
    this.receiver = new WebhookReceiver(config.apiKey, config.apiSecret);
  }

  async verify(rawBody: string, authorization: string | undefined): Promise<LivekitEvent> {
    if (!authorization) throw new AppError('UNAUTHORIZED', 'missing webhook signature');
    let ev;
    try {
      ev = await this.receiver.receive(rawBody, authorization, false, 10);
    } catch (err) {
      throw new AppError('UNAUTHORIZED', 'invalid webhook signature', { cause: err });
    }
    const out: LivekitEvent = { id: ev.id, event: ev.event };
    if (ev.room?.name) out.roomName = ev.room.name;
    if (ev.participant?.identity) out.participantIdentity = ev.participant.identity;
    return out;
  }
}
