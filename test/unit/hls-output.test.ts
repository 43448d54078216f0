import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../src/errors';
import { hlsOutputOptions } from '../../src/recorder/ffmpeg-sink';
import { parsePlaylist, renderPlaylist } from '../../src/recorder/hls-playlist';
import { HLS_LOCAL_PLAYLIST, HlsUploader } from '../../src/recorder/hls-uploader';
import { silentLogger } from '../../src/recorder/logger';
import { resolveRecordingOptions } from '../../src/recordings/options';
import { resolveOutputs } from '../../src/recordings/outputs';
import type { StoredRecording } from '../../src/recordings/repository';
import { withFreshUrls } from '../../src/recordings/signed-views';
import { recordingView } from '../../src/recordings/views';
import { LocalStorage } from '../../src/storage/local';
import { withSignedSegmentUrls } from '../../src/storage/playlist-urls';
import type { Storage } from '../../src/storage/types';

const FFMPEG_PLAYLIST = (segments: [string, number][], ended: boolean) =>
  [
    '#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:EVENT', '#EXT-X-INDEPENDENT-SEGMENTS',
    '#EXT-X-MAP:URI="init.mp4"',
    ...segments.flatMap(([uri, d]) => [`#EXTINF:${d.toFixed(6)},`, uri]),
    ...(ended ? ['#EXT-X-ENDLIST'] : []),
    '',
  ].join('\n');

describe('outputs option', () => {
  const limits = { maxDurationSeconds: 3600 };
  it('fills the HLS defaults and keeps the file beside it; omitted: no outputs (the file alone)', () => {
    expect(resolveOutputs([{ type: 'hls' }, { type: 'file' }])).toEqual([{ type: 'hls', segmentSeconds: 4, live: true }, { type: 'file' }]);
    expect(resolveRecordingOptions({ outputs: [{ type: 'hls', segmentSeconds: 2, live: false }] }, limits).options.outputs).toEqual([{ type: 'hls', segmentSeconds: 2, live: false }]);
    expect(resolveRecordingOptions({}, limits).options.outputs).toBeUndefined();
  });
  it('refuses HLS of an audio-only delivery', () => {
    expect(() => resolveRecordingOptions({ format: 'm4a', outputs: [{ type: 'hls' }] }, limits)).toThrow(/hls carries the picture/);
    expect(resolveRecordingOptions({ format: 'm4a', outputs: [{ type: 'file' }] }, limits).options.outputs).toEqual([{ type: 'file' }]);
  });
  it.each([
    [[], /non-empty list, each one of file, hls, rtmp, srt/],
    [[{ type: 'file' }, { type: 'file' }], /file is listed twice/],
    [[{ type: 'dash' }], /"dash" is not one of file, hls, rtmp, srt/],
    [[{ type: 'hls', segmentSeconds: 11 }], /segmentSeconds must be an integer from 2 to 10 seconds/],
    [[{ type: 'hls', segmentSeconds: 2.5 }], /segmentSeconds must be an integer/],
    [[{ type: 'hls', live: 'yes' }], /\[0\]\.live/],
    [[{ type: 'file', segmentSeconds: 2 }], /segmentSeconds/],
  ])('refuses %j with UNSUPPORTED_OPTION', (outputs, rule) => {
    expect.assertions(2);
    try {
      resolveOutputs(outputs as { type: string }[]);
    } catch (err) {
      expect((err as AppError).code).toBe('UNSUPPORTED_OPTION');
      expect((err as AppError).message).toMatch(rule);
    }
  });
});

describe('HLS FFmpeg arguments', () => {
  it('copies the page H.264, makes Opus AAC and cuts fMP4 at every keyframe of the segment length', () => {
    const args = hlsOutputOptions({ format: 'mp4', videoCodec: 'h264' }, { dir: '/spool/r.hls', segmentSeconds: 4 }).join(' ');
    expect(args).toContain('-c:v copy');
    // packets timed to the next one: MediaRecorder gives them none, and the last EXTINF is their sum
    expect(args).toContain('-bsf:v setts=duration=if(eq(NEXT_PTS\\,NOPTS)\\,DURATION\\,NEXT_PTS-PTS)');
    expect(args).toContain('-c:a aac');
    expect(args).toContain('-f hls -hls_time 3.60 -hls_segment_type fmp4');
    expect(args).toContain('-hls_segment_filename /spool/r.hls/seg-%05d.m4s');
    expect(args).toContain('-hls_flags independent_segments+temp_file');
  });
});

describe('HLS playlists', () => {
  it('reads the segments FFmpeg finished, and writes the stored ones with a gap marked', () => {
    const local = parsePlaylist(FFMPEG_PLAYLIST([['seg-00000.m4s', 2.0], ['seg-00001.m4s', 2.033], ['seg-00002.m4s', 1.5]], true));
    expect(local).toEqual({ targetDurationSec: 2, mapUri: 'init.mp4', ended: true, segments: [{ uri: 'seg-00000.m4s', durationSec: 2 }, { uri: 'seg-00001.m4s', durationSec: 2.033 }, { uri: 'seg-00002.m4s', durationSec: 1.5 }] });
    const text = renderPlaylist({ targetDurationSec: 2, mapUri: 'init.mp4', ended: false, segments: [local.segments[0], { ...local.segments[2], afterGap: true }] });
    expect(text).toContain('#EXT-X-TARGETDURATION:2\n');
    expect(text).toContain('#EXTINF:2.000000,\nseg-00000.m4s\n#EXT-X-DISCONTINUITY\n#EXTINF:1.500000,\nseg-00002.m4s\n');
    expect(text).not.toContain('ENDLIST');
    expect(parsePlaylist(text).segments.map((s) => s.uri)).toEqual(['seg-00000.m4s', 'seg-00002.m4s']);
  });
});

describe('the view of a recording with HLS', () => {
  const row = (over: Partial<StoredRecording>): StoredRecording => ({
    id: 'rec-1', callId: 'call-1', requestedBy: 'host', status: 'RECORDING', options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid', outputs: [{ type: 'hls', segmentSeconds: 4, live: true }] },
    outputFormat: 'mp4', maxDurationSeconds: null, filePath: null, fileSize: null, durationMs: null, thumbnails: [], quality: null, storageProvider: null, storageKey: null, storageUrl: null,
    manifestKey: null, sidecars: [], streams: [], stopReason: null, errorCode: null, errorMessage: null, errorFault: null, startingAt: new Date(), recordingAt: new Date(), stoppingAt: null, processingAt: null,
    uploadingAt: null, completedAt: null, failedAt: null, deletedAt: null, pausedAt: null, pauses: [], markers: [], workerId: null, idempotencyKey: null, attempts: 0, nextAttemptAt: null, lastError: null, createdAt: new Date(), updatedAt: new Date(),
    ...over,
  });
  const storage = { remove: async () => undefined, signedUrl: async (key: string) => `signed:${key}`, hlsPlaylistKey: (c: string, r: string) => `p/${c}/${r}/hls/index.m3u8` };

  it('names the playlist and a URL signed now while it records and after; none before it records, without HLS or once deleted', async () => {
    expect((await withFreshUrls(recordingView(row({})), storage)).hls).toEqual({ playlistKey: 'p/call-1/rec-1/hls/index.m3u8', url: 'signed:p/call-1/rec-1/hls/index.m3u8' });
    expect((await withFreshUrls(recordingView(row({ status: 'COMPLETED', storageKey: 'k' })), storage)).hls).toMatchObject({ playlistKey: 'p/call-1/rec-1/hls/index.m3u8' });
    expect((await withFreshUrls(recordingView(row({ status: 'STARTING', recordingAt: null })), storage)).hls).toBeNull();
    expect((await withFreshUrls(recordingView(row({ status: 'DELETED' })), storage)).hls).toBeNull();
    expect((await withFreshUrls(recordingView(row({ options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid' } })), storage)).hls).toBeNull();
  });
});

describe('a playlist served through a signed URL', () => {
  it('signs its init segment and every segment as sibling keys, leaves tags and absolute URLs alone', async () => {
    const text = renderPlaylist({ targetDurationSec: 2, mapUri: 'init.mp4', ended: true, segments: [{ uri: 'seg-00000.m4s', durationSec: 2 }, { uri: 'https://cdn.example/x.m4s', durationSec: 2 }] });
    const out = await withSignedSegmentUrls(text, 'p/call/rec/hls/index.m3u8', async (key) => `/files/${key}?sig=1`);
    expect(out).toContain('#EXT-X-MAP:URI="/files/p/call/rec/hls/init.mp4?sig=1"');
    expect(out).toContain('#EXTINF:2.000000,\n/files/p/call/rec/hls/seg-00000.m4s?sig=1\n');
    expect(out).toContain('\nhttps://cdn.example/x.m4s\n');
    expect(out).toContain('#EXT-X-ENDLIST');
  });
});

describe('HlsUploader', () => {
  let dir: string;
  let storage: LocalStorage;
  const prefix = 'call/rec/hls/';
  const write = (name: string, body = name) => fs.writeFileSync(path.join(dir, name), body);
  const stored = (name: string) => path.join(storage.dir, prefix, name);
  const playlist = () => fs.readFileSync(stored('index.m3u8'), 'utf8');

  beforeEach(() => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hls-up-'));
    dir = path.join(root, 'local');
    fs.mkdirSync(dir);
    storage = new LocalStorage({ dir: path.join(root, 'store') });
  });

  const waitUntil = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(check()).toBe(true);
  };

  it('stores each finished segment, then a playlist of the stored ones; at the end the last and EXT-X-ENDLIST', async () => {
    const up = new HlsUploader({ storage, keyPrefix: prefix, dir, live: true, log: silentLogger, pollMs: 10 });
    up.start();
    write('init.mp4');
    write('seg-00000.m4s');
    write('seg-00001.m4s'); // being written: not listed yet
    write(HLS_LOCAL_PLAYLIST, FFMPEG_PLAYLIST([['seg-00000.m4s', 2]], false));
    await waitUntil(() => fs.existsSync(stored('index.m3u8')));
    expect(fs.existsSync(stored('init.mp4'))).toBe(true);
    expect(parsePlaylist(playlist())).toMatchObject({ ended: false, segments: [{ uri: 'seg-00000.m4s' }] });
    expect(fs.existsSync(stored('seg-00001.m4s'))).toBe(false);

    write(HLS_LOCAL_PLAYLIST, FFMPEG_PLAYLIST([['seg-00000.m4s', 2], ['seg-00001.m4s', 1.2]], true));
    const report = await up.finish(new Date(Date.now() - 3200));
    expect(parsePlaylist(playlist())).toMatchObject({ ended: true, segments: [{ uri: 'seg-00000.m4s' }, { uri: 'seg-00001.m4s' }] });
    expect(report).toMatchObject({ playlistKey: `${prefix}index.m3u8`, segments: 2, durationMs: 3200, missing: [] });
    expect(report.readableAfterMs).toEqual({ firstFrame: expect.any(Number), lastFrame: expect.any(Number) });
    expect(fs.existsSync(dir)).toBe(false); // the local copy goes once stored
  });

  it('retries a storage that is down with backoff, leaves out what never got through and says which', async () => {
    const flaky: Storage = Object.create(storage);
    flaky.put = (key, file, type, progress, opts) => {
      if (key.endsWith('seg-00001.m4s')) return Promise.reject(new AppError('STORAGE_UNAVAILABLE', 'storage is down'));
      return storage.put(key, file, type, progress, opts);
    };
    const retry = { maxAttempts: 3, baseMs: 5, maxMs: 10 };
    const up = new HlsUploader({ storage: flaky, keyPrefix: prefix, dir, live: true, log: silentLogger, pollMs: 10, retry });
    up.start();
    for (const n of ['init.mp4', 'seg-00000.m4s', 'seg-00001.m4s', 'seg-00002.m4s']) write(n);
    write(HLS_LOCAL_PLAYLIST, FFMPEG_PLAYLIST([['seg-00000.m4s', 2], ['seg-00001.m4s', 2], ['seg-00002.m4s', 2]], false));
    await waitUntil(() => fs.existsSync(stored('seg-00002.m4s')) && playlist().includes('seg-00002.m4s'));
    // the playlist goes on past the missing segment: a discontinuity, never a segment that is not there
    expect(playlist()).toContain('seg-00000.m4s\n#EXT-X-DISCONTINUITY\n#EXTINF:2.000000,\nseg-00002.m4s');
    const report = await up.finish(new Date());
    expect(report).toMatchObject({ segments: 2, missing: ['seg-00001.m4s'] });
    expect(playlist()).toContain('#EXT-X-ENDLIST');
  });

  it('retries missing segments once more at the end, within its deadline', async () => {
    let down = true;
    const flaky: Storage = Object.create(storage);
    flaky.put = (key, file, type, progress, opts) => (down && key.endsWith('.m4s') ? Promise.reject(new AppError('STORAGE_UNAVAILABLE', 'down')) : storage.put(key, file, type, progress, opts));
    const up = new HlsUploader({ storage: flaky, keyPrefix: prefix, dir, live: true, log: silentLogger, pollMs: 10, retry: { maxAttempts: 2, baseMs: 5, maxMs: 5 } });
    up.start();
    for (const n of ['init.mp4', 'seg-00000.m4s']) write(n);
    write(HLS_LOCAL_PLAYLIST, FFMPEG_PLAYLIST([['seg-00000.m4s', 2]], true));
    await new Promise((r) => setTimeout(r, 100));
    down = false;
    expect(await up.finish(new Date())).toMatchObject({ segments: 1, missing: [] });
    expect(parsePlaylist(playlist()).segments).toHaveLength(1);
  });

  it('not live: stores nothing until the end, then everything', async () => {
    const up = new HlsUploader({ storage, keyPrefix: prefix, dir, live: false, log: silentLogger, pollMs: 10 });
    up.start();
    for (const n of ['init.mp4', 'seg-00000.m4s']) write(n);
    write(HLS_LOCAL_PLAYLIST, FFMPEG_PLAYLIST([['seg-00000.m4s', 2]], true));
    await new Promise((r) => setTimeout(r, 60));
    expect(fs.existsSync(stored('seg-00000.m4s'))).toBe(false);
    const report = await up.finish(new Date());
    expect(report).toMatchObject({ segments: 1, missing: [] });
    expect(report.readableAfterMs).toBeUndefined();
  });
});
