import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TIMELINE_LIMITS, type TimelineMessage } from '../../recorder-page/src/protocol';
import type { Logger } from './logger';

/**
 * The page's timeline events of one recording (who speaks, the chat), one JSON line each,
 * written beside the spool as they arrive: what a crash leaves of them is what post-processing
 * (src/postprocess/sidecars.ts) makes the speaker and chat sidecars from, like the spool is the
 * file. A line is what the page said, checked and cut to the limits; times are wall clock (ms).
 */

const text = (max: number) => z.string().transform((s) => s.slice(0, max));
const identity = text(TIMELINE_LIMITS.name);
const at = z.number().finite().nonnegative();

const speakersLine = z.object({
  type: z.literal('speakers'),
  at,
  speakers: z.array(z.object({ identity, name: identity, since: at.optional() })).max(TIMELINE_LIMITS.speakers),
  ended: z.array(z.object({ identity, at })).max(TIMELINE_LIMITS.speakers).optional(),
});
const chatLine = z.object({
  type: z.literal('chat'),
  at,
  identity,
  name: identity,
  topic: text(TIMELINE_LIMITS.name),
  // the page cuts at 4096 UTF-8 bytes: never more characters than that
  text: text(TIMELINE_LIMITS.textBytes),
  truncated: z.boolean().optional(),
});

/** One line of the log, as written and as read back (parsed, never cast). */
export const timelineLineSchema = z.discriminatedUnion('type', [speakersLine, chatLine]);
export type TimelineLine = z.infer<typeof timelineLineSchema>;

/** A log stops growing here (a chat flood must not fill the spool's disk); later lines are dropped. */
const MAX_LOG_BYTES = 16 * 1024 * 1024;

/** Where recording `id`'s timeline events are written, beside its spool. */
export function timelinePathOf(spoolDir: string, id: string): string {
  return path.join(spoolDir, `${id}.timeline.jsonl`);
}

export class TimelineLog {
  private chain: Promise<void> = Promise.resolve();
  private bytes = 0;
  private full = false;

  private constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
    private readonly log: Logger,
  ) {}

  /** Opens (appending: a salvaged or retried recording keeps what it had) recording `id`'s log. */
  static async open(spoolDir: string, id: string, log: Logger): Promise<TimelineLog> {
    await fs.mkdir(spoolDir, { recursive: true });
    const file = timelinePathOf(spoolDir, id);
    return new TimelineLog(file, await fs.open(file, 'a'), log);
  }

  /** Writes `msg` if it is a timeline event of the page (true), in arrival order; false for any other message. */
  append(msg: TimelineMessage | { type: string }): boolean {
    if (msg.type !== 'speakers' && msg.type !== 'chat') return false;
    const parsed = timelineLineSchema.safeParse(msg);
    if (!parsed.success) {
      this.log.warn({ type: msg.type }, 'timeline event refused: malformed');
      return true;
    }
    const line = `${JSON.stringify(parsed.data)}\n`;
    const size = Buffer.byteLength(line);
    if (this.full || this.bytes + size > MAX_LOG_BYTES) {
      if (!this.full) this.log.warn({ bytes: this.bytes }, 'timeline log full: later events are dropped');
      this.full = true;
      return true;
    }
    this.bytes += size;
    // written at once (no buffer of ours): a worker that dies keeps every line before it
    this.chain = this.chain.then(() => this.handle.appendFile(line)).catch((err: Error) => this.log.warn({ err: err.message }, 'timeline event not written'));
    return true;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.handle.close().catch(() => undefined);
  }

  /** A start that never recorded: its log goes with its spool. */
  async discard(): Promise<void> {
    await this.close();
    await fs.rm(this.path, { force: true }).catch(() => undefined);
  }
}

/** The lines of a log that parse (a crash may have cut the last one); none when there is no log. */
export async function readTimeline(file: string): Promise<TimelineLine[] | null> {
  let raw: string;
  try {
    raw = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const lines: TimelineLine[] = [];
  for (const text of raw.split('\n')) {
    if (!text.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      continue;
    }
    const parsed = timelineLineSchema.safeParse(json);
    if (parsed.success) lines.push(parsed.data);
  }
  return lines;
}
