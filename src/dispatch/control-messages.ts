import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError, ERROR_CODES, isAppError, type ErrorCode } from '../errors';
import { RECORDING_END_REASONS } from '../recordings/contract';
import { recordingOptionsSchema } from '../recordings/options';
import type { RecordingRunner } from '../recordings/runner';
import type { StreamSecrets } from '../recordings/secrets';

/**
 * What goes over the Redis control channel, for whichever worker owns the recording: a stop,
 * a live change (the recording's new options, whole, so a repeated message does no harm), or
 * a pause or resume (the state to be in, so a repeated one does no harm either). A change or a
 * pause carries `reply`, a request id: the owning worker answers on the reply channel once it
 * applied it or could not, so the API can say so (and take a refused change back off the row).
 */
const reply = z.string().max(64).optional();
export const controlMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stop'), id: z.string(), reason: z.enum(RECORDING_END_REASONS) }),
  z.object({ type: z.literal('update'), id: z.string(), options: recordingOptionsSchema, reply }),
  z.object({ type: z.literal('pause'), id: z.string(), paused: z.boolean(), reply }),
]);
export type ControlMessage = z.infer<typeof controlMessage>;

const controlReply = z.object({ reply: z.string(), error: z.object({ code: z.string(), message: z.string() }).optional() });
type ControlReply = z.infer<typeof controlReply>;

/**
 * Parses a message of the channel (throws on a malformed one) and applies it when `runner` runs
 * that recording, a live change's stream URLs opened with `secrets`; returns the reply to
 * publish when the sender waits for one.
 */
export async function deliverControl(raw: string, runner: RecordingRunner | undefined, secrets: StreamSecrets): Promise<string | undefined> {
  const msg = controlMessage.parse(JSON.parse(raw));
  if (!runner?.has(msg.id)) return undefined;
  const wanted = msg.type === 'stop' ? undefined : msg.reply;
  try {
    await applyControl(msg.type === 'update' ? { ...msg, options: secrets.openOptions(msg.options) } : msg, runner);
  } catch (err) {
    if (!wanted) throw err;
    const error = { code: isAppError(err) ? err.code : 'PAGE_FAILED', message: (err as Error).message };
    return JSON.stringify({ reply: wanted, error } satisfies ControlReply);
  }
  return wanted ? JSON.stringify({ reply: wanted } satisfies ControlReply) : undefined;
}

/** The senders in this process waiting for a worker's answer to a control message. */
export class ControlReplies {
  private readonly waiting = new Map<string, (answer: ControlReply) => void>();

  /**
   * A new request id, and its answer: resolved when the worker applied it, or after `ms`
   * without an answer (the owner may be gone; the change stays written, as a stop does);
   * rejected with the worker's error.
   */
  expect(ms: number): { reply: string; answered: Promise<void> } {
    const id = randomUUID();
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => settle({ reply: id }), ms);
      const settle = (answer: ControlReply) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (!answer.error) return resolve();
        const code = (answer.error.code in ERROR_CODES ? answer.error.code : 'PAGE_FAILED') as ErrorCode;
        reject(new AppError(code, answer.error.message));
      };
      this.waiting.set(id, settle);
    });
    return { reply: id, answered };
  }

  /** A message of the reply channel: settles the request it answers, if it is this process's. */
  settle(raw: string): void {
    const parsed = controlReply.safeParse(JSON.parse(raw));
    if (parsed.success) this.waiting.get(parsed.data.reply)?.(parsed.data);
  }
}

/** What a control message asks of the runner that has its recording. */
export async function applyControl(msg: ControlMessage, runner: RecordingRunner): Promise<void> {
  if (msg.type === 'stop') await runner.stop(msg.id, msg.reason);
  else if (msg.type === 'update') await runner.update(msg.id, msg.options);
  else await runner.setPaused(msg.id, msg.paused);
}
