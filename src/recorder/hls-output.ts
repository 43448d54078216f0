import fs from 'node:fs/promises';
import path from 'node:path';
import type { RecordingRequest } from '../recordings/contract';
import { hlsOutputOf } from '../recordings/outputs';
import { hlsPrefix } from '../storage/keys';
import type { Storage } from '../storage/types';
import type { HlsSpec } from './ffmpeg-sink';
import { HlsUploader } from './hls-uploader';
import type { Logger } from './logger';

/** The storage a worker's HLS outputs go to, and its key prefix (RECORDING_STORAGE_PREFIX). */
export interface HlsOutputTarget {
  storage: Storage;
  prefix: string;
}

export interface HlsSession {
  spec: HlsSpec;
  uploader: HlsUploader;
  target: HlsOutputTarget;
}

/** Recording `id`'s HLS directory, beside its spool (the spool's own housekeeping removes both). */
export function hlsDirOf(spoolDir: string, id: string): string {
  return path.join(spoolDir, `${id}.hls`);
}

/**
 * The HLS output of `req`, when its options ask for one: FFmpeg's directory (created empty)
 * and the uploader to the recording's `hls/` prefix. Undefined when none is asked for. The
 * CLI's `record` has no storage nor call: it never asks (its flags have no outputs).
 */
export async function openHlsOutput(
  deps: { spoolDir: string; log: Logger; hls?: HlsOutputTarget },
  req: RecordingRequest,
): Promise<HlsSession | undefined> {
  const output = hlsOutputOf(req.options.outputs);
  if (!output || !deps.hls || !req.callId) {
    if (output) deps.log.warn({ hasStorage: Boolean(deps.hls), hasCall: Boolean(req.callId) }, 'HLS asked for but this recorder has no storage or call for it: not written');
    return undefined;
  }
  const dir = hlsDirOf(deps.spoolDir, req.id);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  const uploader = new HlsUploader({
    storage: deps.hls.storage,
    keyPrefix: hlsPrefix(deps.hls.prefix, req.callId, req.id),
    dir,
    live: output.live,
    log: deps.log.child({ output: 'hls' }),
  });
  return { spec: { dir, segmentSeconds: output.segmentSeconds }, uploader, target: deps.hls };
}
