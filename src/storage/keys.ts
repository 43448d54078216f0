import { AppError } from '../errors';
import { checkIdentifier } from '../recordings/identifiers';
import { SIDECAR_NAME } from '../recordings/stored-data';

/**
 * Where the objects of one recording live:
 *   <prefix><callId>/<recordingId>/recording.<ext>
 *   <prefix><callId>/<recordingId>/thumbnails/thumb-1.jpg .. thumb-5.jpg
 *   <prefix><callId>/<recordingId>/poster.jpg
 *   <prefix><callId>/<recordingId>/manifest.json
 *   <prefix><callId>/<recordingId>/hls/index.m3u8, init.mp4, seg-00000.m4s ..  (HLS output, stored during the call)
 *   <prefix><callId>/<recordingId>/speakers.vtt, speakers.json, chat.jsonl, ... (the sidecars, by name)
 *   <prefix><callId>/<recordingId>/spool/<name>/<start>-<end>.webm ..  (the spool, stored during the call on S3/GCS)
 * Deleting a recording is deleting the prefix `<prefix><callId>/<recordingId>/`.
 * A layout preset's uploaded assets live apart, under `<prefix>_presets/<preset>/<file>`: no
 * callId starts with `_`, so that prefix is never a recording's.
 */

/** A prefix is used verbatim; a non-empty one without a trailing slash gets one. */
export function normalizePrefix(prefix: string | undefined): string {
  if (!prefix) return '';
  const p = prefix.replace(/^\/+/, '');
  return p === '' || p.endsWith('/') ? p : `${p}/`;
}

export function recordingPrefix(prefix: string, callId: string, recordingId: string): string {
  return `${normalizePrefix(prefix)}${checkIdentifier('callId', callId, 'callId')}/${checkIdentifier('storageSegment', recordingId, 'recordingId')}/`;
}

export function recordingKey(prefix: string, callId: string, recordingId: string, ext: string): string {
  return `${recordingPrefix(prefix, callId, recordingId)}recording.${ext.replace(/^\./, '')}`;
}

/** `index` counts from 1. */
export function thumbnailKey(prefix: string, callId: string, recordingId: string, index: number): string {
  if (!Number.isInteger(index) || index < 1) throw new AppError('VALIDATION_ERROR', `thumbnail index ${index} must be >= 1`);
  return `${recordingPrefix(prefix, callId, recordingId)}thumbnails/thumb-${index}.jpg`;
}

export function posterKey(prefix: string, callId: string, recordingId: string): string {
  return `${recordingPrefix(prefix, callId, recordingId)}poster.jpg`;
}

export function manifestKey(prefix: string, callId: string, recordingId: string): string {
  return `${recordingPrefix(prefix, callId, recordingId)}manifest.json`;
}

/** The prefix of a recording's HLS playlist and segments (the playlist names them relative to itself). */
export function hlsPrefix(prefix: string, callId: string, recordingId: string): string {
  return `${recordingPrefix(prefix, callId, recordingId)}hls/`;
}

export const HLS_PLAYLIST_NAME = 'index.m3u8';

export function hlsPlaylistKey(prefix: string, callId: string, recordingId: string): string {
  return `${hlsPrefix(prefix, callId, recordingId)}${HLS_PLAYLIST_NAME}`;
}

/** The prefix of a recording's stored spool (recorder/stored-spool.ts); removed after COMPLETED. */
export function spoolPrefix(prefix: string, callId: string, recordingId: string): string {
  return `${recordingPrefix(prefix, callId, recordingId)}spool/`;
}

/** A sidecar beside the recording, by its name (postprocess/sidecars.ts: its kind). */
export function sidecarKey(prefix: string, callId: string, recordingId: string, name: string): string {
  if (!SIDECAR_NAME.test(name) || name === 'manifest.json') throw new AppError('VALIDATION_ERROR', `"${name}" is not a sidecar name`);
  return `${recordingPrefix(prefix, callId, recordingId)}${name}`;
}

export function presetAssetPrefix(prefix: string, preset: string): string {
  return `${normalizePrefix(prefix)}_presets/${checkIdentifier('presetName', preset, 'preset name')}/`;
}

/** Rejects keys that could escape a directory or address nothing. */
export function assertSafeKey(key: string): string {
  if (!key || key.startsWith('/') || key.split('/').some((s) => s === '..' || s === '.') || key.includes('\0')) {
    throw new AppError('VALIDATION_ERROR', `storage key "${key}" is not allowed`);
  }
  return key;
}
