import { z } from 'zod';
import type { TimelineLine } from '../recorder/timeline-log';
import { fileSpan, resumeOffsetsMs, toFileMs, type PausedSpan } from '../recordings/timeline';
import { buildVtt } from './webvtt';

/**
 * The speaker timeline and the chat, from the page's timeline events (recorder/timeline-log.ts),
 * on the file's clock: ms from its first frame with the paused spans cut out
 * (recordings/timeline.ts). What falls before time 0, after the end or inside a pause is not in
 * the file, so not here either.
 */

export interface FileClock {
  recordingAt: Date;
  pauses: readonly PausedSpan[];
  /** The delivered file's length: a turn still open at the end ends here. */
  durationMs: number;
}

export interface SpeakerTurn {
  identity: string;
  name: string;
  startMs: number;
  endMs: number;
}

/**
 * Each turn of each speaker: from when they joined the set of active speakers (dated by the
 * page's meter, `since`) until they left it (`ended`), or the end of the file. Several may
 * speak at once; one identity's turns never overlap. The meter dates a sound when the page
 * heard it; the recorder moved the file's audio by `audioShiftMs` (its A/V offset, RECORDER_AV_OFFSET_MS,
 * made good at the remux), so a turn moves with the sound it is made of.
 */
export function speakerTurns(lines: readonly TimelineLine[], clock: FileClock, audioShiftMs = 0): SpeakerTurn[] {
  const open = new Map<string, { name: string; start: number }>();
  const turns: SpeakerTurn[] = [];
  const lastEnd = new Map<string, number>();
  const close = (identity: string, end: number) => {
    const o = open.get(identity)!;
    open.delete(identity);
    const endAt = Math.max(o.start, end);
    lastEnd.set(identity, endAt);
    const span = fileSpan(new Date(o.start + audioShiftMs), new Date(endAt + audioShiftMs), clock.recordingAt, clock.pauses);
    if (span) turns.push({ identity, name: o.name, ...span });
  };
  for (const line of lines) {
    if (line.type !== 'speakers') continue;
    const now = new Set(line.speakers.map((s) => s.identity));
    const endedAt = new Map((line.ended ?? []).map((e) => [e.identity, Math.min(e.at, line.at)]));
    for (const identity of [...open.keys()]) if (!now.has(identity)) close(identity, endedAt.get(identity) ?? line.at);
    for (const s of line.speakers) {
      if (open.has(s.identity)) continue;
      // dated by the meter, but never before this speaker's previous turn ended
      const start = Math.max(Math.min(s.since ?? line.at, line.at), lastEnd.get(s.identity) ?? -Infinity);
      open.set(s.identity, { name: s.name, start });
    }
  }
  for (const [identity, o] of open) {
    const startMs = toFileMs(new Date(o.start + audioShiftMs), clock.recordingAt, clock.pauses);
    if (startMs < clock.durationMs) turns.push({ identity, name: o.name, startMs, endMs: clock.durationMs });
  }
  const cut = turns
    .map((t) => ({ ...t, endMs: Math.min(t.endMs, clock.durationMs) }))
    .filter((t) => t.endMs > t.startMs)
    .sort((a, b) => a.startMs - b.startMs || a.identity.localeCompare(b.identity));
  return joinBrokenTurns(cut, resumeOffsetsMs(clock.recordingAt, clock.pauses));
}

/**
 * One speaker's turns less than this apart are one turn. The server's active-speaker set blinks
 * (a loaded machine's late level update, its first report naming someone else first): the
 * speaker is reported gone and back while the meter never stopped hearing them, which would
 * otherwise split a turn into two cues a few ms apart. A breath between sentences is one turn too.
 */
const TURN_JOIN_GAP_MS = 1000;

/** Joins each identity's turns (sorted by start) that are under TURN_JOIN_GAP_MS apart, unless a resume seam lies between them (a pause ends a turn). */
function joinBrokenTurns(turns: SpeakerTurn[], seams: readonly number[]): SpeakerTurn[] {
  const lastOf = new Map<string, SpeakerTurn>();
  const joined: SpeakerTurn[] = [];
  for (const t of turns) {
    const last = lastOf.get(t.identity);
    const seamBetween = last !== undefined && seams.some((s) => s >= last.endMs && s <= t.startMs);
    if (last && t.startMs - last.endMs < TURN_JOIN_GAP_MS && !seamBetween) {
      last.endMs = Math.max(last.endMs, t.endMs);
      continue;
    }
    const copy = { ...t };
    lastOf.set(t.identity, copy);
    joined.push(copy);
  }
  return joined;
}

export function speakersVtt(turns: readonly SpeakerTurn[]): string {
  return buildVtt(turns.map((t) => ({ startMs: t.startMs, endMs: t.endMs, voice: t.name, text: t.name })));
}

export function speakersJson(turns: readonly SpeakerTurn[]): string {
  return `${JSON.stringify(turns.map(({ identity, name, startMs, endMs }) => ({ identity, name, startMs, endMs })), null, 2)}\n`;
}

export interface ChatMessage {
  atMs: number;
  identity: string;
  name: string;
  topic: string;
  /** As sent (UTF-8 text, cut to 4096 bytes: then `truncated`). */
  text: string;
  /** LiveKit's chat components send JSON with the words in `message`: those words. */
  message?: string;
  truncated?: boolean;
}

/** How long a chat line stays on screen in chat.vtt. */
export const CHAT_CUE_MS = 5000;

export function chatMessages(lines: readonly TimelineLine[], clock: FileClock): ChatMessage[] {
  const start = clock.recordingAt.getTime();
  return lines.flatMap((line): ChatMessage[] => {
    // said before time 0 or while paused: not in the file, so not in its chat
    if (line.type !== 'chat' || line.at < start || clock.pauses.some((p) => line.at >= p.pausedAt.getTime() && (!p.resumedAt || line.at < p.resumedAt.getTime()))) return [];
    const atMs = toFileMs(new Date(line.at), clock.recordingAt, clock.pauses);
    if (atMs > clock.durationMs) return [];
    const message = chatWords(line.text);
    return [{ atMs, identity: line.identity, name: line.name, topic: line.topic, text: line.text, ...(message !== undefined ? { message } : {}), ...(line.truncated ? { truncated: true } : {}) }];
  });
}

export function chatJsonl(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `${JSON.stringify(m)}\n`).join('');
}

export function chatVtt(messages: readonly ChatMessage[], durationMs: number): string {
  return buildVtt(messages.map((m) => ({ startMs: m.atMs, endMs: Math.min(m.atMs + CHAT_CUE_MS, durationMs), voice: m.name, text: m.message ?? m.text })));
}

const componentsChat = z.object({ message: z.string() });

/** The `message` of LiveKit components' chat JSON (`{"id", "timestamp", "message"}`), else undefined. */
function chatWords(text: string): string | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const parsed = componentsChat.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.message : undefined;
  } catch {
    return undefined;
  }
}
