/**
 * What the recording benchmarks stand on: a LiveKit dev server, publishers in its room, and
 * a Recorder with one warm browser, in a temporary directory that goes with them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../src/config';
import { findFreeDevServerPort, startDevServer } from '../src/demo/dev-server';
import { SyntheticPublishers } from '../src/demo/synthetic-publishers';
import { createLogger } from '../src/observability/logger';
import type { LivekitCredentials } from '../src/livekit/tokens';
import { Recorder, type RecorderSettings } from '../src/recorder/recorder';
import { sleep } from './bench-lib';

export interface BenchRig<P> {
  livekit: LivekitCredentials;
  /** The temporary directory: outputs go here; removed at the end. */
  dir: string;
  config: Config;
  settings: RecorderSettings;
  publishers: P;
  recorder: Recorder;
}

export interface RigSetup<P> {
  /** The temporary directory's name prefix. */
  name: string;
  /** Who publishes: syntheticPublishers, or another kind. */
  publishers: (livekit: LivekitCredentials, config: Config) => Promise<P>;
  /** Joins the room before the recorder starts, then waits `settleMs` for their tracks. */
  join: (publishers: P) => Promise<void>;
  settleMs: number;
  /** The Recorder's HLS target, made in the directory (bench-hls). */
  hls?: (dir: string) => Parameters<typeof Recorder.create>[3];
}

/** Runs `bench` on a rig, and takes the rig down after it, whatever happened. */
export async function withBenchRig<P extends { close(): Promise<void> }, T>(setup: RigSetup<P>, bench: (rig: BenchRig<P>) => Promise<T>): Promise<T> {
  const server = await startDevServer({ port: await findFreeDevServerPort(7990) });
  const livekit = { url: server.url, apiKey: server.apiKey, apiSecret: server.apiSecret };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${setup.name}-`));
  const config = loadConfig();
  const settings: RecorderSettings = { ...config.recorder, warmBrowsers: 1, spoolDir: path.join(dir, 'spool') };
  const publishers = await setup.publishers(livekit, config);
  try {
    await setup.join(publishers);
    await sleep(setup.settleMs);
    // BENCH_LOG=warn shows what went wrong in a run (an upload given up, a stream that drops, FFmpeg failing)
    const recorder = await Recorder.create(settings, livekit, createLogger(process.env.BENCH_LOG ?? 'silent'), setup.hls?.(dir));
    try {
      return await bench({ livekit, dir, config, settings, publishers, recorder });
    } finally {
      await recorder.close();
    }
  } finally {
    await publishers.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Chromium's synthetic publishers (a colour and a tone each). */
export const syntheticPublishers = (livekit: LivekitCredentials, config: Config) => SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit });

/** Three publishers in `room`: red, green and blue tiles, each with its own tone. */
export const threeColourPublishers = (room: string) => async (publishers: SyntheticPublishers) => {
  for (const [i, c] of ['#ff0000', '#00ff00', '#0000ff'].entries()) await publishers.add({ room, identity: `p${i}`, colour: c, tone: 500 + 300 * i });
};
