import fsp from 'node:fs/promises';
import path from 'node:path';
import { readTimeline, type TimelineLine } from '../recorder/timeline-log';
import { contentTypeOf } from '../recordings/formats';
import type { RecordingMarker, SidecarName } from '../recordings/stored-data';
import type { PausedSpan } from '../recordings/timeline';
import { chaptersOf } from './chapters';
import { chatJsonl, chatMessages, chatVtt, speakersJson, speakersVtt, speakerTurns, type FileClock } from './timeline-sidecars';

/**
 * Sidecars: small files made from the recording's timeline, on the file's clock, stored beside
 * the recording (storage/keys.ts sidecarKey), listed in manifest.json (kind, key, size, content
 * type) and in the recording's view (`sidecars`: kind, key, a URL signed at each read). This file
 * is the one place a sidecar is made, stored and listed; to add one:
 *   1. a builder in BUILDERS: (context) => its files, each `{ kind, body }`; the kind is the file's
 *      name (`chapters.json`: lowercase, .json, .jsonl or .vtt, SIDECAR_NAME in stored-data.ts),
 *      and its content type follows from it (recordings/formats.ts contentTypeOf);
 *   2. what it needs of the recording, in SidecarSource (service-adapter.ts fills it from the job).
 * A sidecar is a function of its source: a retried job makes the same files again.
 */

/** What the sidecars are made from, beside the delivered file's length. */
export interface SidecarSource {
  /** The file's time 0 (wall clock). */
  recordingAt: Date;
  pauses: readonly PausedSpan[];
  /** The host's markers: with the pauses, the chapters (chapters.ts). */
  markers: readonly RecordingMarker[];
  /** The page's timeline events (recorder/timeline-log.ts), beside the spool; none kept (a custom layout page): no speaker sidecars. */
  timelinePath: string | null;
  /** The start asked for the chat (option `chat`): chat.jsonl and chat.vtt, even when nobody wrote. */
  chat: boolean;
  /** How far the recorder moved the file's audio (ms, negative: earlier; -RECORDER_AV_OFFSET_MS): the speaker turns move with it. */
  audioShiftMs: number;
}

export interface SidecarContext {
  clock: FileClock;
  /** null: no timeline was kept for this recording. */
  timeline: TimelineLine[] | null;
  chat: boolean;
  audioShiftMs: number;
  markers: readonly RecordingMarker[];
}

export interface SidecarFile {
  kind: SidecarName;
  body: string;
}

/**
 * The speaker timeline is made for every recording whose page kept a timeline: an empty one
 * (nobody spoke) is a valid WebVTT file with no cues and `[]`, so its absence always means
 * "not known", never "silent".
 */
const speakers = (ctx: SidecarContext): SidecarFile[] => {
  if (!ctx.timeline) return [];
  const turns = speakerTurns(ctx.timeline, ctx.clock, ctx.audioShiftMs);
  return [
    { kind: 'speakers.vtt', body: speakersVtt(turns) },
    { kind: 'speakers.json', body: speakersJson(turns) },
  ];
};

const chat = (ctx: SidecarContext): SidecarFile[] => {
  if (!ctx.chat) return [];
  const messages = chatMessages(ctx.timeline ?? [], ctx.clock);
  return [
    { kind: 'chat.jsonl', body: chatJsonl(messages) },
    { kind: 'chat.vtt', body: chatVtt(messages, ctx.clock.durationMs) },
  ];
};

/** chapters.json: the chapters the delivered file carries (chapters.ts), when it has any. */
const chapters = (ctx: SidecarContext): SidecarFile[] => {
  const list = chaptersOf({ ...ctx.clock, markers: ctx.markers });
  return list.length ? [{ kind: 'chapters.json', body: `${JSON.stringify(list, null, 2)}\n` }] : [];
};

const BUILDERS: ((ctx: SidecarContext) => SidecarFile[])[] = [speakers, chat, chapters];

export interface PreparedSidecar {
  kind: SidecarName;
  path: string;
  size: number;
  contentType: string;
}

/** Makes every sidecar of the recording into `dir` (the job's scratch space), ready to upload. */
export async function prepareSidecars(source: SidecarSource, durationMs: number, dir: string): Promise<PreparedSidecar[]> {
  const timeline = source.timelinePath ? await readTimeline(source.timelinePath) : null;
  const ctx: SidecarContext = { clock: { recordingAt: source.recordingAt, pauses: source.pauses, durationMs }, timeline, chat: source.chat, audioShiftMs: source.audioShiftMs, markers: source.markers };
  const files = BUILDERS.flatMap((build) => build(ctx));
  if (files.length) await fsp.mkdir(dir, { recursive: true });
  const prepared: PreparedSidecar[] = [];
  for (const f of files) {
    const file = path.join(dir, f.kind);
    await fsp.writeFile(file, f.body);
    prepared.push({ kind: f.kind, path: file, size: Buffer.byteLength(f.body), contentType: contentTypeOf(f.kind) });
  }
  return prepared;
}

export interface StoredSidecar {
  kind: SidecarName;
  key: string;
  size: number;
  contentType: string;
}

/** Uploads the prepared sidecars with the job's `put` (which counts their bytes in its progress), each at the key `keyOf` gives its kind. */
export async function storeSidecars(
  prepared: readonly PreparedSidecar[],
  put: (key: string, file: string, contentType: string) => Promise<{ key: string; size: number }>,
  keyOf: (kind: SidecarName) => string,
): Promise<StoredSidecar[]> {
  const stored: StoredSidecar[] = [];
  for (const s of prepared) {
    const up = await put(keyOf(s.kind), s.path, s.contentType);
    stored.push({ kind: s.kind, key: up.key, size: up.size, contentType: s.contentType });
  }
  return stored;
}
