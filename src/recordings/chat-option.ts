import { z } from 'zod';
import { AppError } from '../errors';

/**
 * The start option `chat`: record the room's data messages on some topics as the chat sidecars
 * (chat.jsonl, chat.vtt). Off unless asked; `true` takes LiveKit's usual chat topics
 * (`lk-chat-topic`: the components' chat; `chat`), `{ "topics": [...] }` names them.
 */
export const DEFAULT_CHAT_TOPICS = ['lk-chat-topic', 'chat'];

const topic = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'a topic must be printable text' });

/** As stored with the recording's options and sent to the page (launch query `chat`). */
export const chatOptionSchema = z.strictObject({ topics: z.array(topic).min(1).max(16) });
export type ChatOption = z.infer<typeof chatOptionSchema>;

const chatInput = z.union([z.boolean(), chatOptionSchema], { error: 'must be true, false or { "topics": [1 to 16 topics of 1 to 128 printable characters] }' });

/** The stored form of a start request's `chat` (undefined: off); UNSUPPORTED_OPTION for what is not one, or beside a custom layout page. */
export function resolveChat(input: unknown, opts: { customLayout: boolean; name: string }): ChatOption | undefined {
  const parsed = chatInput.safeParse(input);
  if (!parsed.success) throw new AppError('UNSUPPORTED_OPTION', `${opts.name} ${parsed.error.issues[0].message}`);
  const chat = parsed.data;
  if (chat === false) return undefined;
  // a custom layout page joins the room itself; the recorder has no ear in it for the chat
  if (opts.customLayout) throw new AppError('UNSUPPORTED_OPTION', `${opts.name} cannot be recorded with a custom layout page`);
  return { topics: chat === true ? DEFAULT_CHAT_TOPICS : [...new Set(chat.topics)] };
}
