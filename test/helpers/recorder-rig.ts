import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { SyntheticPublishers } from '../../src/demo/synthetic-publishers';
import { Recorder } from '../../src/recorder/recorder';
import type { OutputFormat, RecordingResult } from '../../src/recordings/contract';
import { testLivekit } from './in-process-service';
import { sleep } from './recorder-process';
import { SignalGate } from './signal-gate';

/**
 * The recorder (the service's defaults, as a user gets them, one warm browser) against the
 * run's livekit-server (started once by global setup), with real Chromium publishers in a
 * browser of their own: what the recorder e2e files share, one of each per file.
 */
export interface RecorderRig {
  dir: string;
  publishers: SyntheticPublishers;
  recorder: Recorder;
  /** Where the recorder's page joins its rooms through (with `{ gated: true }`): joins can be held. */
  gate?: SignalGate;
}

export const rigConfig = loadConfig({});

/**
 * The test file's rig: opened before its tests (and handed to `opened`), closed after them.
 * `gated`: the recorder reaches LiveKit through a SignalGate (the publishers directly);
 * `settings`: the recorder's, over the defaults.
 */
export function useRecorderRig(opened: (rig: RecorderRig) => void, { gated = false, settings = {} as Partial<typeof rigConfig.recorder> } = {}): RecorderRig {
  const rig = {} as RecorderRig;
  beforeAll(async () => {
    rig.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-rec-'));
    rig.publishers = await SyntheticPublishers.launch({ chromiumPath: rigConfig.recorder.chromiumPath, livekit: testLivekit });
    if (gated) rig.gate = await SignalGate.open(testLivekit.url);
    rig.recorder = await Recorder.create({ ...rigConfig.recorder, warmBrowsers: 1, ...settings, spoolDir: path.join(rig.dir, 'spool') }, rig.gate ? { ...testLivekit, url: rig.gate.url } : testLivekit);
    opened(rig);
  }, 60000);
  afterAll(async () => {
    await rig.recorder?.close();
    await rig.gate?.close();
    await rig.publishers?.close();
    if (rig.dir) await fs.rm(rig.dir, { recursive: true, force: true });
  });
  return rig;
}

/** What records a room of `rig` (grid, 1280x720 at 30 fps) for `seconds` while `during` runs: the result, with the FFmpeg that wrote it. */
export function recordIn(rig: RecorderRig) {
  return async (room: string, format: OutputFormat, seconds: number, during?: (elapsedMs: () => number) => Promise<void>): Promise<RecordingResult & { ffmpegPid?: number }> => {
    const live = await rig.recorder.start({
      id: `${room}-${Date.now()}`,
      roomName: room,
      outputPath: path.join(rig.dir, `${room}.${format}`),
      options: { width: 1280, height: 720, fps: 30, format, layout: 'grid' },
    });
    const t0 = Date.now();
    await during?.(() => Date.now() - t0);
    // FFmpeg is spawned once the page has said which codec it records
    const ffmpegPid = live.ffmpegPid();
    await sleep(Math.max(0, seconds * 1000 - (Date.now() - t0)));
    const result = await live.stop();
    return { ...result, ffmpegPid };
  };
}

/** File time (s) of a wall-clock moment of the recording. */
export const fileTime = (r: RecordingResult, wallMs: number) => (wallMs - r.startedAt.getTime()) / 1000;
