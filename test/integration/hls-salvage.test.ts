import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FfmpegSink, outputSpecOf } from '../../src/recorder/ffmpeg-sink';
import { hlsDirOf } from '../../src/recorder/hls-output';
import { parsePlaylist } from '../../src/recorder/hls-playlist';
import { HlsUploader } from '../../src/recorder/hls-uploader';
import { silentLogger } from '../../src/recorder/logger';
import { probe } from '../../src/recorder/probe';
import { SessionMedia } from '../../src/recorder/session-media';
import { salvageRecording } from '../../src/recorder/salvage';
import { SpoolFile } from '../../src/recorder/spool';
import { MEDIA_SPOOL, StoredSpool, type SpoolStore } from '../../src/recorder/stored-spool';
import { DEFAULT_RECORDING_OPTIONS } from '../../src/recordings/options';
import type { RecordingOptions } from '../../src/recordings/contract';
import { assessQuality, parseQuality } from '../../src/recordings/quality';
import { createStorage, hlsPrefix, type Storage, type StorageConfig } from '../../src/storage';
import { sleep, waitFor } from '../helpers/recorder-process';
import { makeSyntheticRecording } from '../helpers/synthetic-recording';

/**
 * A live HLS output whose worker dies mid-recording (salvage.ts, hls-salvage.ts): the live
 * path (FFmpeg's HLS output, the uploader, the spool and on S3 its stored copy) is fed a
 * call's H.264 + Opus stream in real time and abandoned after 9 s of 12, the last 2 s only in
 * the spool (FFmpeg killed, the uploader stopped: what a SIGKILL of the worker leaves), its
 * playlist in the storage then without EXT-X-ENDLIST and short of the spool. Salvage, on another machine from the stored
 * spool (S3, moto) or on the same one after a restart (local storage), ends the playlist
 * with the segments only the spool had: they cover the captured seconds, the segments a
 * viewer may have fetched are left as they were, and FFmpeg plays the whole playlist.
 * The same completion when only the live FFmpeg dies and the worker goes on (session-media.ts).
 */
const env = process.env;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hls-salvage-'));
const base = { region: 'us-east-1', signedUrlSeconds: 120, localDir: path.join(tmp, 'local-storage') };
const configs: Array<[string, StorageConfig, 'other machine' | 'same machine']> = [
  ['aws', { ...base, provider: 'aws', prefix: `hls-salvage-${Date.now()}/`, bucket: env.TEST_S3_BUCKET, endpoint: env.TEST_S3_ENDPOINT, credentials: env.TEST_S3_CREDENTIALS }, 'other machine'],
  ['local', { ...base, provider: 'local', prefix: '' }, 'same machine'],
];
const source = path.join(tmp, 'call.mkv');
const CALL_SEC = 12;
let chunks: Buffer[] = [];

beforeAll(async () => {
  // a keyframe a second, as the page's encoder gives an HLS recording of 2 s segments
  await makeSyntheticRecording(source, 'h264-opus.mkv', { durationSec: CALL_SEC, width: 320, height: 180, fps: 30 });
  const bytes = fs.readFileSync(source);
  // like MediaRecorder's timeslices: about 4 chunks a second, the first holding the header
  const n = CALL_SEC * 4;
  const size = Math.ceil(bytes.length / n);
  chunks = Array.from({ length: n }, (_, i) => bytes.subarray(i * size, (i + 1) * size)).filter((c) => c.length > 0);
}, 60000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function readObject(storage: Storage, key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await storage.createReadStream(key)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe.each(configs)('%s storage: salvage of a live HLS output', (_name, cfg, where) => {
  let storage: Storage;
  beforeAll(() => {
    storage = createStorage(cfg);
  });
  afterAll(async () => {
    if (cfg.provider !== 'local') await storage.deletePrefix(cfg.prefix);
    await storage.close();
  });

  it('ends the playlist with the segments recorded after the last uploaded one', async () => {
    const id = `rec-hls-${cfg.provider}`;
    const callId = 'call-hls-salvage';
    const options: RecordingOptions = { ...DEFAULT_RECORDING_OPTIONS, format: 'mp4', outputs: [{ type: 'hls', segmentSeconds: 2, live: true }, { type: 'file' }] };
    const store: SpoolStore = { storage, prefix: cfg.prefix };
    const keyPrefix = hlsPrefix(cfg.prefix, callId, id);
    const playlistKey = `${keyPrefix}index.m3u8`;

    // the worker that dies: its spool, FFmpeg (file + HLS) and uploader, as session-media.ts runs them
    const machine1 = path.join(tmp, `${cfg.provider}-machine-1`);
    const spool = await SpoolFile.create(machine1, id);
    const stored = cfg.provider === 'local' ? undefined : new StoredSpool(store, { callId, recordingId: id, name: MEDIA_SPOOL }, spool.path, undefined, silentLogger);
    const dir = hlsDirOf(machine1, id);
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(path.join(machine1, 'out'));
    const spec = outputSpecOf(options, 'h264', 0);
    const sink = new FfmpegSink('ffmpeg', path.join(machine1, 'out', `${id}.mp4`), spec, { dir, segmentSeconds: 2 });
    const uploader = new HlsUploader({ storage, keyPrefix, dir, live: true, log: silentLogger });
    uploader.start();
    expect(sink.alive).toBe(true);
    // 9 s of call spooled (and acked: stored, on S3); the last 2 s of them never became
    // segments (FFmpeg cuts at the keyframe after a segment's time, the upload comes after)
    const spooled = Math.round(chunks.length * 0.75);
    const segmented = spooled - 8;
    for (const [i, chunk] of chunks.slice(0, spooled).entries()) {
      await spool.append(chunk);
      stored?.appended(spool.bytes);
      await stored?.whenStored(i);
      if (i < segmented) sink.write(chunk);
      await sleep((CALL_SEC * 1000) / chunks.length);
    }
    // the machine is lost: nothing is ended, flushed or uploaded any more
    await waitFor(async () => (await storage.head(playlistKey)) !== null, 5000, 'a playlist stored during the call');
    expect({ alive: sink.alive, failure: sink.failure?.message }).toEqual({ alive: true, failure: undefined });
    sink.kill();
    uploader.kill();
    await spool.close();
    await stored?.close(2000);
    const before = (await readObject(storage, playlistKey)).toString('utf8');
    const live = parsePlaylist(before);
    expect(live.ended).toBe(false);
    expect(live.segments.length).toBeGreaterThanOrEqual(2);
    const liveSizes = await Promise.all(live.segments.map(async (s) => (await storage.head(keyPrefix + s.uri))?.size));
    const liveSec = live.segments.reduce((sum, s) => sum + s.durationSec, 0);

    // another worker (an empty spool directory), or this one after a restart
    const machine2 = where === 'other machine' ? path.join(tmp, `${cfg.provider}-machine-2`) : machine1;
    const outputPath = path.join(machine2, 'out', `${id}.mp4`);
    const file = await salvageRecording({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', spoolDir: machine2 }, { id, callId, roomName: 'r', outputPath, options }, store);
    expect(file).toMatchObject({ path: outputPath });

    const after = (await readObject(storage, playlistKey)).toString('utf8');
    expect(after.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    expect(after).not.toContain('#EXT-X-DISCONTINUITY');
    const ended = parsePlaylist(after);
    // the stored segments first, as they were (a viewer may have them), then those only the spool had
    expect(ended.segments.slice(0, live.segments.length)).toEqual(live.segments);
    expect(await Promise.all(live.segments.map(async (s) => (await storage.head(keyPrefix + s.uri))?.size))).toEqual(liveSizes);
    expect(ended.segments.length).toBeGreaterThan(live.segments.length);
    const summedMs = ended.segments.reduce((sum, s) => sum + s.durationSec * 1000, 0);
    process.stdout.write(`HLS salvage (${cfg.provider}, ${where}): ${live.segments.length} segments (${liveSec.toFixed(2)} s) stored before the loss, ${ended.segments.length} (${(summedMs / 1000).toFixed(2)} s) after; salvaged file ${((file!.durationMs ?? 0) / 1000).toFixed(2)} s\n`);
    // the captured seconds: as long as the salvaged file, within a frame or two
    expect(Math.abs(summedMs - file!.durationMs!)).toBeLessThan(150);
    expect(summedMs).toBeGreaterThan(liveSec * 1000 + 1500);
    // its report, for post-processing (the manifest's playlist entry) and the view
    expect(file!.hls).toEqual({
      playlistKey,
      segments: ended.segments.length,
      durationMs: Math.round(summedMs),
      missing: [],
      completedFromSpool: { reason: 'worker_lost', liveSegments: live.segments.length, liveDurationMs: Math.round(liveSec * 1000) },
    });

    // a player's view: the whole ended playlist decodes without an error
    const copy = path.join(tmp, `${cfg.provider}-copy`);
    fs.mkdirSync(copy);
    for (const name of ['index.m3u8', 'init.mp4', ...ended.segments.map((s) => s.uri)]) fs.writeFileSync(path.join(copy, name), await readObject(storage, keyPrefix + name));
    expect(execFileSync('ffmpeg', ['-v', 'error', '-i', path.join(copy, 'index.m3u8'), '-f', 'null', '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toBe('');
    const info = await probe('ffprobe', path.join(copy, 'index.m3u8'));
    expect(Math.abs(info.durationMs - summedMs)).toBeLessThan(150);
    // nothing of the cut is left beside the spool
    expect(fs.existsSync(hlsDirOf(machine2, id))).toBe(false);

    // a second salvage (recovery tried again) leaves an ended playlist as it is
    await salvageRecording({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', spoolDir: machine2 }, { id, callId, roomName: 'r', outputPath, options }, store);
    expect((await readObject(storage, playlistKey)).toString('utf8')).toBe(after);
  }, 90000);
});

describe('a live FFmpeg that dies while the worker goes on', () => {
  it('keeps the file whole and completes the HLS playlist from the spool at the end', async () => {
    const storage = createStorage({ ...base, provider: 'local', prefix: '' });
    const id = 'rec-hls-ffmpeg-dies';
    const callId = 'call-hls-ffmpeg-dies';
    const options: RecordingOptions = { ...DEFAULT_RECORDING_OPTIONS, format: 'mp4', outputs: [{ type: 'hls', segmentSeconds: 2, live: true }, { type: 'file' }] };
    const keyPrefix = hlsPrefix('', callId, id);
    const playlistKey = `${keyPrefix}index.m3u8`;
    const spoolDir = path.join(tmp, 'ffmpeg-dies');
    const outputPath = path.join(spoolDir, 'out', `${id}.mp4`);
    const media = new SessionMedia(
      { log: silentLogger, ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', spoolDir, audioShiftMs: 0, hls: { storage, prefix: '' } },
      { id, callId, roomName: 'r', outputPath, options },
      { onChunkSpooled: () => undefined, onFault: (err) => { throw err; } },
    );
    try {
      await media.open();
      media.onMessage({ type: 'hello', mimeType: 'video/x-matroska;codecs=avc1,opus', width: 320, height: 180, fps: 30 });
      media.onMessage({ type: 'started', at: Date.now(), expected: [], late: [], waitedMs: 0 });
      let pid: number | undefined;
      let live: ReturnType<typeof parsePlaylist> | undefined;
      for (const [seq, chunk] of chunks.entries()) {
        expect(await media.onChunk(seq, chunk)).toBe(seq);
        // mid-way, once viewers have a few segments: the live FFmpeg (file and HLS) is killed
        if (seq === Math.round(chunks.length / 2)) {
          live = await waitFor(async () => {
            const p = (await storage.head(playlistKey)) && parsePlaylist((await readObject(storage, playlistKey)).toString('utf8'));
            return p && p.segments.length >= 2 ? p : null;
          }, 5000, 'two segments stored live');
          pid = media.ffmpegPid();
          expect(pid).toEqual(expect.any(Number));
          process.kill(pid!, 'SIGKILL');
        }
        await sleep((CALL_SEC * 1000) / chunks.length);
      }
      const out = await media.finish();
      expect(() => process.kill(pid!, 0)).toThrow();

      // the file has the whole call: the remux of the spool
      expect(Math.abs(out.durationMs - CALL_SEC * 1000)).toBeLessThan(300);
      const text = (await readObject(storage, playlistKey)).toString('utf8');
      expect(text.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
      expect(text).not.toContain('#EXT-X-DISCONTINUITY');
      const ended = parsePlaylist(text);
      const summedMs = ended.segments.reduce((sum, s) => sum + s.durationSec * 1000, 0);
      process.stdout.write(`HLS after its FFmpeg died: ${live!.segments.length} segments stored live, ${ended.segments.length} (${(summedMs / 1000).toFixed(2)} s) at the end; file ${(out.durationMs / 1000).toFixed(2)} s\n`);
      expect(Math.abs(summedMs - out.durationMs)).toBeLessThan(300);
      // what viewers had stays as it was, the rest follows it
      expect(ended.segments.slice(0, live!.segments.length)).toEqual(live!.segments);
      expect(out.hls).toMatchObject({ playlistKey, segments: ended.segments.length, missing: [], completedFromSpool: { reason: 'live_output_failed' } });
      expect(out.hls!.completedFromSpool!.liveSegments).toBeGreaterThanOrEqual(live!.segments.length);
      expect(out.hls!.completedFromSpool!.liveSegments).toBeLessThan(ended.segments.length);
      // the view's quality report says so
      const quality = parseQuality(assessQuality({ start: { waitedMs: 0, present: 1, late: [] }, hls: out.hls }, 30));
      expect(quality?.hls?.completedFromSpool?.reason).toBe('live_output_failed');
      expect(quality?.warnings.map((w) => w.code)).toContain('HLS_LIVE_INTERRUPTED');
      expect(fs.existsSync(hlsDirOf(spoolDir, id))).toBe(false);
    } finally {
      media.kill();
      await storage.close();
    }
  }, 60000);
});
