import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../src/errors';
import { DEFAULT_RECORDING_OPTIONS } from '../../src/recordings/options';
import { fileFromStoredSpool, salvageRecording } from '../../src/recorder/salvage';
import { SpoolFile, spoolPathOf } from '../../src/recorder/spool';
import { MEDIA_SPOOL, removeStoredSpool, StoredSpool, TIMELINE_SPOOL, type SpoolStore } from '../../src/recorder/stored-spool';
import { storedRun } from '../../src/recorder/stored-spool-read';
import { fetchStoredTracks, StoredTracks } from '../../src/recorder/stored-tracks';
import { readTrackIndex, trackDirOf, trackSpoolPathOf, TrackSpools } from '../../src/recorder/track-spools';
import type { PageMessage } from '../../recorder-page/src/protocol';
import { silentLogger } from '../../src/recorder/logger';
import { readTimeline, timelinePathOf } from '../../src/recorder/timeline-log';
import { probe } from '../../src/recorder/probe';
import { createStorage, type Storage, type StorageConfig } from '../../src/storage';
import { makeSyntheticRecording } from '../helpers/synthetic-recording';

/**
 * The spool stored as the call goes on (recorder/stored-spool.ts), on moto (S3) and
 * fake-gcs-server (GCS): a WebM fed chunk by chunk is stored as byte ranges, another
 * "machine" (an empty spool directory) salvages a playable file and the timeline log from
 * them, a store that fails does not hold up the acks and is caught up once back, and the
 * objects go after COMPLETED. The participants' track spools are stored and brought back too.
 */
const env = process.env;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stored-spool-'));
const base = { region: 'us-east-1', signedUrlSeconds: 120, localDir: path.join(tmp, 'unused') };
const configs: Array<[string, StorageConfig]> = [
  ['aws', { ...base, provider: 'aws', prefix: 'spool-s3/', bucket: env.TEST_S3_BUCKET, endpoint: env.TEST_S3_ENDPOINT, credentials: env.TEST_S3_CREDENTIALS }],
  ['gcp', { ...base, provider: 'gcp', prefix: 'spool-gcs/', bucket: env.TEST_GCS_BUCKET, endpoint: env.TEST_GCS_ENDPOINT, credentials: env.TEST_GCS_CREDENTIALS }],
];
const source = path.join(tmp, 'source.webm');
let chunks: Buffer[] = [];

beforeAll(async () => {
  await makeSyntheticRecording(source, 'vp8-opus.webm', { durationSec: 4, width: 320, height: 180, fps: 15 });
  const bytes = fs.readFileSync(source);
  // like MediaRecorder's timeslices: a dozen chunks, the first holding the header
  const size = Math.ceil(bytes.length / 12);
  chunks = Array.from({ length: 12 }, (_, i) => bytes.subarray(i * size, (i + 1) * size)).filter((c) => c.length > 0);
}, 60000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The real storage, which fails every request while `down` is set (a store that went away). */
function faulty(storage: Storage): { storage: Storage; down: (v: boolean) => void } {
  let down = false;
  const wrapped = new Proxy(storage, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => (down ? Promise.reject(new AppError('STORAGE_UNAVAILABLE', 'store down (test)')) : v.apply(target, args));
    },
  });
  return { storage: wrapped, down: (v) => (down = v) };
}

describe.each(configs)('%s: the stored spool', (_name, cfg) => {
  let real: Storage;
  beforeAll(() => {
    real = createStorage(cfg);
  });
  afterAll(async () => {
    await real.deletePrefix(cfg.prefix);
    await real.close();
  });

  async function record(store: SpoolStore, id: string, dir: string, during?: (i: number) => void) {
    const spool = await SpoolFile.create(dir, id);
    const timelinePath = timelinePathOf(dir, id);
    fs.writeFileSync(timelinePath, `${JSON.stringify({ type: 'speakers', at: 1000, speakers: [{ identity: 'a', name: 'A' }] })}\n{"type":"speak`);
    const stored = new StoredSpool(store, { callId: 'call-1', recordingId: id, name: MEDIA_SPOOL }, spool.path, timelinePath, silentLogger, { ackTimeoutMs: 2000, retryMs: 200, maxSegmentBytes: 8 * 1024 * 1024 });
    const ackWaits: number[] = [];
    for (const [i, chunk] of chunks.entries()) {
      during?.(i);
      await spool.append(chunk);
      stored.appended(spool.bytes);
      const t0 = Date.now();
      await stored.whenStored(i);
      ackWaits.push(Date.now() - t0);
    }
    await spool.close();
    return { stored, ackWaits, spoolBytes: spool.bytes };
  }

  it('stores every acked chunk; another machine salvages the file and the timeline from the store', async () => {
    const store = { storage: real, prefix: cfg.prefix };
    const { stored, ackWaits, spoolBytes } = await record(store, 'rec-a', path.join(tmp, `${cfg.provider}-machine-1`));
    await stored.close();
    const run = await storedRun(store, { callId: 'call-1', recordingId: 'rec-a', name: MEDIA_SPOOL });
    expect(run.bytes).toBe(spoolBytes);
    const median = [...ackWaits].sort((a, b) => a - b)[ackWaits.length >> 1];
    // the figure: what waiting for the store adds to a chunk's ack
    process.stdout.write(`stored spool ${cfg.provider}: ack waits median ${median} ms, max ${Math.max(...ackWaits)} ms over ${ackWaits.length} chunks\n`);
    expect(median).toBeLessThan(500);

    const other = path.join(tmp, `${cfg.provider}-machine-2`);
    const outputPath = path.join(other, 'out', 'rec-a.mkv');
    const settings = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', spoolDir: other };
    const file = await salvageRecording(settings, { id: 'rec-a', callId: 'call-1', roomName: 'r', outputPath, options: { ...DEFAULT_RECORDING_OPTIONS, format: 'mkv' } }, store);
    expect(file).toMatchObject({ path: outputPath });
    expect(fs.readFileSync(spoolPathOf(other, 'rec-a')).equals(fs.readFileSync(source))).toBe(true);
    const out = await probe('ffprobe', outputPath);
    expect(out.durationMs).toBeGreaterThan(3500);
    expect(out.video && out.audio).toBeTruthy();
    // the complete line was stored, the one being written was not
    expect(await readTimeline(timelinePathOf(other, 'rec-a'))).toEqual([{ type: 'speakers', at: 1000, speakers: [{ identity: 'a', name: 'A' }] }]);

    await removeStoredSpool(store, 'call-1', 'rec-a');
    expect(await real.list(`${cfg.prefix}call-1/rec-a/`)).toEqual([]);
  }, 60000);

  it('a store that fails does not hold up the acks; the uploads catch up once it is back', async () => {
    const { storage, down } = faulty(real);
    const store = { storage, prefix: cfg.prefix };
    const { stored, ackWaits, spoolBytes } = await record(store, 'rec-b', path.join(tmp, `${cfg.provider}-machine-3`), (i) => down(i >= 4 && i < 8));
    // acks during the outage came from the local spool at once, not after the 2 s timeout
    expect(Math.max(...ackWaits.slice(5, 8))).toBeLessThan(300);
    down(false);
    // the retries catch up in the background (close() does not wait on a store that was failing)
    for (const t0 = Date.now(); stored.storedBytes < spoolBytes && Date.now() - t0 < 5000; ) await new Promise((r) => setTimeout(r, 50));
    await stored.close(5000);
    expect(stored.storedBytes).toBe(spoolBytes);
    const run = await storedRun({ storage: real, prefix: cfg.prefix }, { callId: 'call-1', recordingId: 'rec-b', name: MEDIA_SPOOL });
    expect(run.bytes).toBe(spoolBytes);
    expect((await storedRun({ storage: real, prefix: cfg.prefix }, { callId: 'call-1', recordingId: 'rec-b', name: TIMELINE_SPOOL })).keys.length).toBe(1);
  }, 60000);

  it("a participant's track spool and the tracks' index are stored as they come; a salvage on another machine brings them back", async () => {
    const store = { storage: real, prefix: cfg.prefix };
    const at = { callId: 'call-1', recordingId: 'rec-t' };
    const tracks = await TrackSpools.open(path.join(tmp, `${cfg.provider}-machine-6`), 'rec-t', silentLogger, (dir) => new StoredTracks(store, at, dir, silentLogger));
    const alice = tracks.handler('1')!;
    const line = { track: 1, identity: 'alice', name: 'Alice', media: 'audio', source: 'microphone', mimeType: 'audio/webm;codecs=opus', at: 1000, fileMs: 40 };
    alice.onMessage({ type: 'track', ...line } as PageMessage);
    const ackWaits: number[] = [];
    for (const [i, chunk] of chunks.entries()) {
      expect(await alice.onChunk(i, 0, chunk)).toBe(i);
      const t0 = Date.now();
      await alice.whenStored!(i);
      ackWaits.push(Date.now() - t0);
    }
    await tracks.close();
    process.stdout.write(`stored track spool ${cfg.provider}: ack waits median ${[...ackWaits].sort((a, b) => a - b)[ackWaits.length >> 1]} ms over ${ackWaits.length} chunks\n`);
    // every acked chunk is in the store: the other machine, which has none of it, gets all of it
    const other = path.join(tmp, `${cfg.provider}-machine-7`);
    const settings = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', spoolDir: other };
    await salvageRecording(settings, { id: 'rec-t', ...at, roomName: 'r', outputPath: path.join(other, 'out', 'rec-t.mkv'), options: { ...DEFAULT_RECORDING_OPTIONS, tracks: 'audio' } }, store);
    const dir = trackDirOf(other, 'rec-t');
    expect(fs.readFileSync(trackSpoolPathOf(dir, 1)).equals(fs.readFileSync(source))).toBe(true);
    expect(await readTrackIndex(dir)).toEqual([line]);
    // what is here already is not fetched again
    const before = fs.statSync(trackSpoolPathOf(dir, 1)).mtimeMs;
    await fetchStoredTracks(other, at, store);
    expect(fs.statSync(trackSpoolPathOf(dir, 1)).mtimeMs).toBe(before);

    await removeStoredSpool(store, 'call-1', 'rec-t');
    expect(await real.list(`${cfg.prefix}call-1/rec-t/`)).toEqual([]);
  }, 60000);

  it("a start given up after a track's chunks were stored removes them and the tracks' index from the store", async () => {
    const store = { storage: real, prefix: cfg.prefix };
    const at = { callId: 'call-1', recordingId: 'rec-d' };
    const tracks = await TrackSpools.open(path.join(tmp, `${cfg.provider}-machine-8`), 'rec-d', silentLogger, (dir) => new StoredTracks(store, at, dir, silentLogger));
    const bob = tracks.handler('1')!;
    bob.onMessage({ type: 'track', track: 1, identity: 'bob', name: 'Bob', media: 'audio', source: 'microphone', mimeType: 'audio/webm;codecs=opus', at: 1000, fileMs: 0 } as PageMessage);
    for (const [i, chunk] of chunks.slice(0, 3).entries()) {
      await bob.onChunk(i, 0, chunk);
      await bob.whenStored!(i);
    }
    // the index line is stored after the line is written, on its own
    const stored = async () => (await real.list(`${cfg.prefix}call-1/rec-d/`)).map((o) => o.key.split('/').at(-2));
    for (const t0 = Date.now(); !(await stored()).includes('track-index') && Date.now() - t0 < 5000; ) await new Promise((r) => setTimeout(r, 50));
    expect(new Set(await stored())).toEqual(new Set(['track-1', 'track-index']));
    await tracks.discard();
    expect(await real.list(`${cfg.prefix}call-1/rec-d/`)).toEqual([]);
  }, 60000);

  it('post-processing on another machine makes the file again from the stored spool when it is not there', async () => {
    const store = { storage: real, prefix: cfg.prefix };
    const { stored } = await record(store, 'rec-c', path.join(tmp, `${cfg.provider}-machine-4`));
    await stored.close(5000);
    const other = path.join(tmp, `${cfg.provider}-machine-5`);
    const job = { recordingId: 'rec-c', callId: 'call-1', roomName: 'r', filePath: path.join(other, 'out', 'rec-c.mkv'), options: { ...DEFAULT_RECORDING_OPTIONS, format: 'mkv' as const } };
    const settings = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', spoolDir: other };
    expect(await fileFromStoredSpool(settings, job, store)).toBe(true);
    expect((await probe('ffprobe', job.filePath)).durationMs).toBeGreaterThan(3500);
    // a file that is here is left as it is
    expect(await fileFromStoredSpool(settings, job, store)).toBe(false);
  }, 60000);
});
