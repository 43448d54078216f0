import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors';
import type { RecordingOutput } from './outputs';

/**
 * Live stream outputs (`{ type: 'rtmp', url }`, `{ type: 'srt', url }` in `outputs`): the rules
 * of a destination URL, the operator's allow-list of hosts, the redaction that keeps a stream
 * key out of views and logs, and StreamInfo, what the view says of each destination (as
 * LiveKit Egress's StreamInfo). A stream URL is a way out of the network, so only hosts the
 * operator lists in RECORDER_STREAM_ALLOWED are accepted; none by default.
 */

export const STREAM_TYPES = ['rtmp', 'srt'] as const;
export type StreamType = (typeof STREAM_TYPES)[number];

/** Destinations of one recording at once: each is an FFmpeg (about 0.01 cores with the page's H.264 copied). */
export const MAX_STREAMS = 3;

const PROTOCOLS: Record<StreamType, readonly string[]> = { rtmp: ['rtmp:', 'rtmps:'], srt: ['srt:'] };

/** The SRT query parameters that hold secrets (a stream id names the stream, like a key). */
const SRT_SECRETS = ['streamid', 'passphrase'];

/**
 * Host patterns of RECORDER_STREAM_ALLOWED: `live.example.com` (that host), `*.example.com`
 * (its subdomains, not itself), `*` (any host), each with an optional `:port` that the URL's
 * port must then equal. Case does not matter.
 */
export const STREAM_HOST_PATTERN = /^(\*|(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$/i;

export function hostAllowed(url: URL, patterns: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'rtmp:' ? '1935' : url.protocol === 'rtmps:' ? '443' : '');
  return patterns.some((raw) => {
    const p = raw.toLowerCase();
    const colon = p.startsWith('[') ? p.indexOf(':', p.indexOf(']')) : p.lastIndexOf(':');
    const [name, wantPort] = colon > 0 ? [p.slice(0, colon), p.slice(colon + 1)] : [p, undefined];
    if (wantPort !== undefined && wantPort !== port) return false;
    if (name === '*') return true;
    if (name.startsWith('*.')) return host.endsWith(name.slice(1));
    return host === name;
  });
}

/**
 * A destination the caller gave, checked: STREAM_URL_INVALID when it is not a URL of its
 * type's protocols (an RTMP URL names an application and a key: rtmp://host/app/key),
 * STREAM_URL_NOT_ALLOWED when its host is not the operator's. Returns it as given.
 */
export function checkStreamUrl(type: StreamType, raw: string, allowed: readonly string[] | 'any', what = 'url'): string {
  const invalid = (why: string): never => {
    throw new AppError('STREAM_URL_INVALID', `${what} ${why}`);
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return invalid(`is not a URL`);
  }
  if (raw.length > 2000) invalid('is longer than 2000 characters');
  if (!PROTOCOLS[type].includes(url.protocol)) invalid(`must start with ${PROTOCOLS[type].map((p) => `${p}//`).join(' or ')} for a ${type} output`);
  if (!url.hostname) invalid('names no host');
  if (type === 'rtmp' && url.pathname.split('/').filter(Boolean).length < 2) invalid('must name an application and a stream key (rtmp://host/app/key)');
  if (allowed !== 'any' && !hostAllowed(url, allowed)) {
    throw new AppError('STREAM_URL_NOT_ALLOWED', `streams to ${url.host} are not allowed (the operator lists allowed hosts in RECORDER_STREAM_ALLOWED)`);
  }
  return raw;
}

/** 8 hex digits of a secret's SHA-256: tells two keys apart without saying either. */
const fingerprint = (secret: string) => `redacted-${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;

/**
 * `raw` with its secrets replaced by a fingerprint: the last path segment of an RTMP URL (the
 * stream key), every query value, SRT's stream id and passphrase, and any user or password.
 * What views and logs show of a destination.
 */
export function redactStreamUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fingerprint(raw);
  }
  const credentials = url.username || url.password ? `${fingerprint(`${url.username}:${url.password}`)}@` : '';
  const segments = url.pathname.split('/');
  const last = segments.length - 1;
  if (url.protocol !== 'srt:' && segments[last]) segments[last] = fingerprint(decodeURIComponent(segments[last]));
  const query = [...url.searchParams.entries()].map(([k, v]) => `${k}=${url.protocol === 'srt:' && !SRT_SECRETS.includes(k.toLowerCase()) ? v : fingerprint(v)}`);
  return `${url.protocol}//${credentials}${url.host}${segments.join('/')}${query.length ? `?${query.join('&')}` : ''}`;
}

/** `outputs` with each stream's URL replaced by `f` of it: redacted for a view, sealed or opened at rest (secrets.ts). */
export function mapStreamUrls(outputs: readonly RecordingOutput[], f: (url: string) => string): RecordingOutput[] {
  const streamTypes: readonly string[] = STREAM_TYPES;
  return outputs.map((o) => (streamTypes.includes(o.type) && 'url' in o ? { ...o, url: f(o.url) } : o));
}

/** Every secret-bearing piece of `raw` (the URL and its key), for scrubbing a text that may quote them (FFmpeg's messages). */
export function scrubStreamUrl(text: string, raw: string): string {
  let out = text.split(raw).join(redactStreamUrl(raw));
  try {
    const url = new URL(raw);
    const secrets = [url.pathname.split('/').at(-1) ?? '', ...url.searchParams.values(), url.password].filter((s) => s.length >= 4);
    for (const s of secrets) out = out.split(s).join(fingerprint(s));
  } catch {
    // not a URL: the whole of it was replaced above
  }
  return out;
}

/**
 * What the view says of a destination (Egress's StreamInfo): STARTING until FFmpeg connected,
 * ACTIVE while it sends, RETRYING after a drop while the next attempt waits (`retries`
 * attempts so far, `lastError` the latest failure), FAILED when it was given up, ENDED when
 * the recording ended or the destination was removed. Instants as ISO strings.
 */
export const STREAM_STATUSES = ['STARTING', 'ACTIVE', 'RETRYING', 'FAILED', 'ENDED'] as const;
export const streamInfoSchema = z.object({
  type: z.enum(STREAM_TYPES),
  /** Redacted (redactStreamUrl): the key never leaves the worker. */
  url: z.string(),
  status: z.enum(STREAM_STATUSES),
  /** When it first became ACTIVE. */
  startedAt: z.iso.datetime().nullable(),
  endedAt: z.iso.datetime().nullable(),
  retries: z.number().int().nonnegative(),
  lastError: z.string().nullable(),
  lastRetryAt: z.iso.datetime().nullable(),
});
export type StreamInfo = z.infer<typeof streamInfoSchema>;

/** A live change's streams (PATCH body `streams`): URLs to add, and URLs to remove (as given, or as the view shows them). */
export const streamsChangeSchema = z
  .strictObject({
    add: z.array(z.strictObject({ type: z.enum(STREAM_TYPES), url: z.string().max(2000) })).max(MAX_STREAMS).optional(),
    remove: z.array(z.string().max(2000)).max(MAX_STREAMS * 4).optional(),
  })
  // `{}` or empty lists would be accepted and change nothing: a caller's mistake, said as one
  .refine((c) => (c.add?.length ?? 0) + (c.remove?.length ?? 0) > 0, { error: 'must add or remove at least one stream ({ add: [{ type, url }] } or { remove: [url] })' });
export type StreamsChange = z.infer<typeof streamsChangeSchema>;

/** Why a stream stopped when its worker was lost: a salvage finishes the file from the spool, it does not stream again. */
export const STREAM_WORKER_LOST = 'the worker streaming it was lost; the recording was finished from its spool and its streams are not restarted';

/**
 * The stream states of a recording whose worker was lost (restart recovery): what was still
 * STARTING, ACTIVE or RETRYING is FAILED with the reason, so the view does not show a stream
 * that nobody sends any more; ENDED and FAILED ones stay as they were.
 */
export function lostStreams(streams: readonly StreamInfo[], at: Date): StreamInfo[] {
  return streams.map((s) => (s.status === 'ENDED' || s.status === 'FAILED' ? s : { ...s, status: 'FAILED', endedAt: at.toISOString(), lastError: STREAM_WORKER_LOST }));
}
