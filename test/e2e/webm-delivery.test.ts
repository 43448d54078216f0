import fs from 'node:fs';
import path from 'node:path';
import { SyntheticPublishers, type Publisher } from '../../src/demo/synthetic-publishers';
import { PostProcessor } from '../../src/postprocess/processor';
import { probe, type ProbeResult } from '../../src/recorder/probe';
import { LocalStorage } from '../../src/storage/local';
import { startTestService, testLivekit, type TestService } from '../helpers/in-process-service';
import { colourRegion, frameAt } from '../helpers/media';
import { sleep, waitFor } from '../helpers/recorder-process';
import { untilAdmitted } from '../helpers/api-request';

/**
 * A WebM delivery end to end: the page records H.264 as for MP4, the live FFmpeg copies it
 * into Matroska, and post-processing encodes the delivered WebM (VP8, Opus copied). Checked
 * on the downloaded file; then the salvage of a spool, which must become a WebM too.
 */
const ORANGE = '#ff8800';

/** A WebM, not only a Matroska file: its EBML header's DocType (0x4282) says "webm". */
function docType(file: string): string {
  const head = fs.readFileSync(file).subarray(0, 64);
  const at = head.indexOf(Buffer.from([0x42, 0x82]));
  const len = head[at + 2] & 0x7f; // a one-byte size: 0x80 | length
  return head.subarray(at + 3, at + 3 + len).toString('latin1');
}

/** What a delivered WebM must be: VP8 + Opus in a WebM, 1280x720 at 30 fps, with the orange publisher on screen. */
async function expectWebm(file: string, durationMs: number): Promise<ProbeResult> {
  const info = await probe('ffprobe', file, { countFrames: true });
  expect(info.format).toBe('matroska,webm');
  expect(docType(file)).toBe('webm');
  expect(info.streams.map((s) => `${s.type}:${s.codec}`).sort()).toEqual(['audio:opus', 'video:vp8']);
  expect(info.video).toMatchObject({ width: 1280, height: 720 });
  expect(info.video!.fps!).toBeGreaterThan(29);
  expect(info.video!.fps!).toBeLessThan(31);
  expect(Math.abs(info.durationMs - durationMs)).toBeLessThan(150);
  expect(colourRegion(await frameAt(file, durationMs / 2000), ORANGE).share).toBeGreaterThan(0.2);
  return info;
}

let publishers: SyntheticPublishers;
let pub: Publisher | undefined;
let svc: TestService;
let dir: string;
const api = (method: string, urlPath: string, body?: unknown) => svc.api(method, urlPath, body);

beforeAll(async () => {
  publishers = await SyntheticPublishers.launch({ chromiumPath: '/usr/bin/chromium', livekit: testLivekit });
  svc = await startTestService('webme2e', { CHROMIUM_PATH: '/usr/bin/chromium' });
  dir = svc.dir;
}, 60000);

afterAll(async () => {
  await pub?.leave();
  await svc?.close();
  await publishers?.close();
});

describe('format webm', () => {
  let id: string;
  let done: any;
  let live: ProbeResult;
  const statuses = new Set<string>();

  beforeAll(async () => {
    expect((await api('POST', '/api/video-calls', { id: 'call-webm', roomName: 'webm-room', hostId: 'host-1', participantIds: [] })).status).toBe(201);
    pub = await publishers.add({ room: 'webm-room', identity: 'orange', colour: ORANGE, tone: 700 });
    await sleep(1000);
    const start = await untilAdmitted(() => api('POST', '/api/video-calls/call-webm/recording/start', { format: 'webm', resolution: '720p', fps: 30 }));
    expect(start.status).toBe(201);
    id = start.body.data.id;
    await waitFor(async () => (await api('GET', `/api/video-calls/call-webm/recording/${id}`)).body.data.status === 'RECORDING', 30000, 'RECORDING');
    await sleep(8000);
    // a copy of the live spool for the salvage case: the spool itself goes once the file is stored
    fs.copyFileSync(path.join(dir, '.spool', `${id}.webm`), path.join(dir, '.spool', 'salvage-webm.webm'));
    expect((await api('POST', '/api/video-calls/call-webm/recording/stop')).status).toBe(200);
    done = await waitFor(
      async () => {
        const r = (await api('GET', `/api/video-calls/call-webm/recording/${id}`)).body.data;
        statuses.add(r.status);
        // the recorder's own file, before post-processing removes it
        if (!live && r.status === 'PROCESSING') live = await probe('ffprobe', path.join(dir, `${id}.mkv`), { countFrames: true });
        if (r.status === 'FAILED') throw new Error(`FAILED: ${JSON.stringify(r.error)}`);
        return r.status === 'COMPLETED' ? r : null;
      },
      60000,
      'COMPLETED',
    );
  }, 120000);

  it('records H.264 live into Matroska: the live FFmpeg only copies', () => {
    expect(statuses.has('PROCESSING')).toBe(true);
    expect(live).toBeDefined();
    expect(live.streams.map((s) => `${s.type}:${s.codec}`).sort()).toEqual(['audio:opus', 'video:h264']);
    expect(live.video!.fps!).toBeGreaterThan(29);
  });

  it('delivers a WebM (VP8, Opus) of the same length and frame rate, with thumbnails', async () => {
    expect(done).toMatchObject({ format: 'webm', status: 'COMPLETED' });
    expect(done.error ?? null).toBeNull();
    expect(Math.abs(done.durationMs - live.durationMs)).toBeLessThan(100);
    const res = await svc.fetchAsHost(`/api/video-calls/call-webm/recording/${id}/download`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('video/webm');
    const file = path.join(dir, 'downloaded.webm');
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const info = await expectWebm(file, done.durationMs);
    // every frame, each at its own time (formats.ts EVERY_FRAME: FFmpeg's default dropped 0 to 4)
    expect(info.video!.frames).toBe(live.video!.frames);
    expect(done.thumbnails.filter((t: { kind: string }) => t.kind === 'thumbnail')).toHaveLength(5);
    expect(done.thumbnails.filter((t: { kind: string }) => t.kind === 'poster')).toHaveLength(1);
    // the recorder's intermediate file and the spool are gone with the delivery
    expect(fs.existsSync(path.join(dir, `${id}.mkv`))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.spool', `${id}.webm`))).toBe(false);
  });

  it('salvages a spool (restart recovery) into the recorder\'s Matroska, which post-processing makes a WebM', async () => {
    const stored = await svc.running.svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
    const options = stored.options as { format: string };
    expect(options.format).toBe('mkv');
    const req = { id: 'salvage-webm', roomName: 'webm-room', outputPath: path.join(dir, 'salvaged.mkv'), options: { width: 1280, height: 720, fps: 30, format: 'mkv' as const, layout: 'grid' as const } };
    const salvaged = await svc.running.recorder!.salvage(req);
    expect(salvaged).toEqual({ path: req.outputPath, size: fs.statSync(req.outputPath).size, durationMs: expect.any(Number) });
    const storage = new LocalStorage({ dir: path.join(dir, 'salvage-store') });
    const out = await new PostProcessor({ storage, workDir: path.join(dir, 'salvage-work') }).process({ recordingId: 'salvage-webm', callId: 'call-webm', inputPath: req.outputPath, format: 'webm' });
    expect(out.conversion).toEqual({ video: 'transcode', audio: 'copy', rewritten: true });
    await expectWebm(path.join(dir, 'salvage-store', out.video.key), out.durationMs);
    expect(Math.abs(out.durationMs - salvaged!.durationMs!)).toBeLessThan(100);
  }, 60000);
});
