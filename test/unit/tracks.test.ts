import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildManifest } from '../../src/postprocess/manifest';
import { correctAfterResumes, trackKey, trackOffsetMs, type StoredTrack } from '../../src/postprocess/tracks';
import { readTrackIndex, trackSpoolPathOf, TrackSpools } from '../../src/recorder/track-spools';
import { parseStartOptions, resolveRecordingOptions } from '../../src/recordings/options';
import { errorCode } from '../helpers/error-code';

const resolve = (body: unknown) => resolveRecordingOptions(parseStartOptions(body), { maxDurationSeconds: 60, layoutOrigins: 'any' }).options;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, child: () => silent } as never;

describe('the tracks option', () => {
  test('absent: none; "audio" and "audio+video" are stored as asked', () => {
    expect(resolve({}).tracks).toBeUndefined();
    expect(resolve({ tracks: 'audio' }).tracks).toBe('audio');
    expect(resolve({ tracks: 'audio+video', format: 'webm' }).tracks).toBe('audio+video');
  });
  test.each([['video'], [true], [''], [{ audio: true }], ['AUDIO']])('%p is UNSUPPORTED_OPTION', (tracks) => {
    expect(errorCode(() => resolve({ tracks }))).toBe('UNSUPPORTED_OPTION');
  });
  test('not with a custom layout page (its tab is recorded, not the tracks)', () => {
    expect(errorCode(() => resolve({ tracks: 'audio', customLayoutUrl: 'https://layouts.example/page' }))).toBe('UNSUPPORTED_OPTION');
  });
});

describe('track offsets', () => {
  test("the page's start on the file clock plus the first packet after it; audio moved as the composite's", () => {
    expect(trackOffsetMs({ fileMs: 0, media: 'video' }, 0, -100)).toBe(0);
    expect(trackOffsetMs({ fileMs: 3000.4, media: 'video' }, 12, -100)).toBe(3012);
    expect(trackOffsetMs({ fileMs: 3000, media: 'audio' }, 12, -100)).toBe(2912);
    // a track there from time 0 begins before it by the audio's move
    expect(trackOffsetMs({ fileMs: 0.2, media: 'audio' }, 0, -100)).toBe(-100);
  });
});

describe('track keys', () => {
  test('under the recording prefix, in tracks/', () => {
    expect(trackKey('p/', 'call-1', 'rec-1', '1-audio-alice.ogg')).toBe('p/call-1/rec-1/tracks/1-audio-alice.ogg');
  });
});

describe('the manifest lists each track', () => {
  test('identity, name, media, key, size, duration and offset', () => {
    const track: StoredTrack = {
      track: { track: 2, identity: 'bob', name: 'Bob', media: 'video', source: 'camera', mimeType: 'video/webm;codecs=h264', at: 0, fileMs: 1800 },
      name: '2-video-bob.mp4',
      key: 'call-1/rec-1/tracks/2-video-bob.mp4',
      size: 1234,
      contentType: 'video/mp4',
      codec: 'h264',
      durationMs: 4200,
      offsetMs: 1800,
      offsetFrom: 'page-clock',
    };
    const m = buildManifest(
      { recordingId: 'rec-1', callId: 'call-1', format: 'mp4', durationMs: 6000, conversion: { video: 'copy', audio: 'copy' } },
      { roomName: 'room', quality: null },
      { video: { key: 'call-1/rec-1/recording.mp4', size: 10, contentType: 'video/mp4' }, thumbnails: [], poster: null, sidecars: [], tracks: [track] },
      { chapters: [], pauses: [] },
    );
    expect(m.files.filter((f) => f.kind === 'track')).toEqual([
      { kind: 'track', media: 'video', identity: 'bob', name: 'Bob', source: 'camera', key: 'call-1/rec-1/tracks/2-video-bob.mp4', size: 1234, contentType: 'video/mp4', codec: 'h264', offsetMs: 1800, offsetFrom: 'page-clock', durationMs: 4200 },
    ]);
  });
});

describe('track spools', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tracks-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  test('each track in order into its own spool, acked, its first message a line of the index', async () => {
    const spools = await TrackSpools.open(dir, 'rec-1', silent);
    const h = spools.handler('1')!;
    expect(spools.handler('1')).toBe(h); // a reconnect gets the same track
    const msg = { type: 'track', identity: 'alice', name: 'Alice', media: 'audio', source: 'microphone', mimeType: 'audio/webm;codecs=opus', at: 1000, fileMs: 40 } as const;
    h.onMessage(msg);
    h.onMessage({ ...msg, at: 2000 }); // said again after a reconnect: the first stands
    expect(await h.onChunk(1, 0, new Uint8Array([2]))).toBe(-1); // early: waits for 0
    expect(await h.onChunk(0, 0, new Uint8Array([1]))).toBe(1);
    await spools.close();
    expect([...(await fs.readFile(trackSpoolPathOf(spools.dir, 1)))]).toEqual([1, 2]);
    expect(await readTrackIndex(spools.dir)).toEqual([{ track: 1, identity: 'alice', name: 'Alice', media: 'audio', source: 'microphone', mimeType: 'audio/webm;codecs=opus', at: 1000, fileMs: 40 }]);
  });

  test('a socket for no track, past the bound, or after the close is refused', async () => {
    const spools = await TrackSpools.open(dir, 'rec-1', silent);
    for (const key of ['0', '-1', 'x', '65', '1.5', '001']) expect(spools.handler(key)).toBeUndefined();
    expect(spools.handler('64')).toBeDefined();
    await spools.close();
    expect(spools.handler('2')).toBeUndefined();
  });

  test('a malformed track message writes no line; a cut line is skipped on reading', async () => {
    const spools = await TrackSpools.open(dir, 'rec-1', silent);
    spools.handler('1')!.onMessage({ type: 'track', identity: 'a', name: 'A', media: 'screen', source: 's', mimeType: 'x', at: 1 } as never);
    await spools.close();
    expect(await readTrackIndex(spools.dir)).toEqual([]);
    await fs.writeFile(path.join(spools.dir, 'index.jsonl'), '{"track":1,"identity":"a","name":"A","media":"audio","source":"microphone","mimeType":"m","at":5,"fileMs":0}\n{"track":2,"iden');
    expect((await readTrackIndex(spools.dir)).map((l) => l.track)).toEqual([1]);
  });
});

describe('tracks begun after a resume, corrected by what the sound showed of the others of their stretch', () => {
  type Placed = Parameters<typeof correctAfterResumes>[0][number];
  let n = 0;
  /** A segment begun `fileMs` into the file after `pausedMs` of pauses, placed at `offsetMs` (the page said `estimateMs`). */
  const seg = (media: 'audio' | 'video', fileMs: number, pausedMs: number, estimateMs: number, offsetMs: number, offsetFrom: Placed['offsetFrom']): Placed => ({
    track: { track: ++n, identity: `p${n}`, name: `p${n}`, media, source: media === 'audio' ? 'microphone' : 'camera', mimeType: '', at: 1_000_000 + fileMs + pausedMs, fileMs },
    name: `${n}`, path: `${n}`, size: 1, contentType: '', codec: '', durationMs: 1000, offsetMs, offsetFrom, estimateMs,
  });
  const placed = (ts: Placed[]) => correctAfterResumes(ts).map((t) => [t.offsetMs, t.offsetFrom]);

  test('a silent segment takes the median correction of its stretch; a camera and the first stretch keep theirs', () => {
    const before = seg('audio', 0, 0, 10, 10, 'page-clock');
    const after = [seg('audio', 5000, 3000, 5000, 5120, 'audio'), seg('audio', 5000, 3000, 5000, 5124, 'audio'), seg('audio', 5001, 3000, 5000, 5000, 'page-clock'), seg('video', 5000, 3000, 5000, 5000, 'page-clock')];
    expect(placed([before, ...after])).toEqual([[10, 'page-clock'], [5120, 'audio'], [5124, 'audio'], [5124, 'resume-audio'], [5000, 'page-clock']]);
  });

  test('one placed far from the median of three or more is a wrong match and takes the median; with two, each keeps its own', () => {
    const first = seg('audio', 0, 0, 0, 0, 'audio');
    const three = [seg('audio', 4000, 2000, 4000, 4200, 'audio'), seg('audio', 4000, 2000, 4000, 4204, 'audio'), seg('audio', 4000, 2000, 4000, 3724, 'audio')];
    expect(placed([first, ...three])).toEqual([[0, 'audio'], [4200, 'audio'], [4204, 'audio'], [4200, 'resume-audio']]);
    expect(placed([first, ...three.slice(1)])).toEqual([[0, 'audio'], [4204, 'audio'], [3724, 'audio']]);
  });

  test('a stretch where the sound placed nothing keeps the page clock', () => {
    const ts = [seg('audio', 0, 0, 0, 0, 'audio'), seg('audio', 3000, 1000, 3000, 3000, 'page-clock')];
    expect(placed(ts)).toEqual([[0, 'audio'], [3000, 'page-clock']]);
  });
});
