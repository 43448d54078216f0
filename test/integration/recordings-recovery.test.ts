import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createService, type Service } from '../../src/app/http';
import { createPostprocessing } from '../../src/postprocess/service-adapter';
import type { HlsReport } from '../../src/recordings/contract';
import { DEFAULT_RECORDING_OPTIONS } from '../../src/recordings/options';
import { parseQuality } from '../../src/recordings/quality';
import { hlsPlaylistKey } from '../../src/storage/keys';
import { makeSyntheticRecording } from '../helpers/synthetic-recording';
import { createTestDatabase } from '../helpers/services/postgres';
import { FfmpegTestRecorder, testConfig, tmpDir, waitFor } from './recordings-harness';

/** Restart recovery: what a dead worker left STARTING/RECORDING/STOPPING gets a true status. */
describe('restart recovery', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: Service | undefined;
  const out = tmpDir('rec-recovery-');

  beforeAll(async () => {
    db = await createTestDatabase('recov');
  });
  afterAll(async () => {
    await svc?.close();
    await db?.drop();
  });

  test('salvages rows whose media survived, fails the rest with WORKER_LOST, leaves fresh queued rows', async () => {
    // The "previous process": only its rows remain.
    const seed = await createService(testConfig({ DATABASE_URL: db.url }), { presence: false });
    const p = seed.db.prisma;
    const rows: Record<string, string> = {};
    for (const [name, status] of [['withFile', 'RECORDING'], ['noFile', 'RECORDING'], ['stoppingWithFile', 'STOPPING'], ['startingOld', 'STARTING'], ['startingFresh', 'STARTING']] as const) {
      const callId = `rc-${name}`;
      await p.videoCall.create({ data: { id: callId, roomName: `room-${name}`, hostId: 'host-1' } });
      const id = randomUUID();
      rows[name] = id;
      const filePath = path.join(out, `${id}.mp4`);
      if (name.endsWith('WithFile') || name === 'withFile') fs.writeFileSync(filePath, Buffer.alloc(4096, 1));
      const old = new Date(Date.now() - 5 * 60_000);
      await p.callRecording.create({
        data: {
          id,
          callId,
          requestedBy: 'host-1',
          status,
          options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid' },
          outputFormat: 'mp4',
          filePath,
          workerId: name === 'startingFresh' || name === 'startingOld' ? null : 'dead-worker',
          startingAt: name === 'startingFresh' ? new Date() : old,
          ...(status !== 'STARTING' ? { recordingAt: old } : {}),
        },
      });
      await p.videoCall.update({ where: { id: callId }, data: { recordingStatus: status } });
    }
    await seed.close();

    svc = await createService(testConfig({ DATABASE_URL: db.url }), { recorder: new FfmpegTestRecorder(), presence: false });
    const report = await svc.start();
    expect(report.salvaged.sort()).toEqual([rows.withFile, rows.stoppingWithFile].sort());
    expect(report.failed.sort()).toEqual([rows.noFile, rows.startingOld].sort());
    expect(report.skipped).toEqual([rows.startingFresh]);

    const get = (id: string) => svc!.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
    for (const id of [rows.withFile!, rows.stoppingWithFile!]) {
      await waitFor(async () => (await get(id)).status === 'COMPLETED', 5000, 'salvaged COMPLETED');
      const r = await get(id);
      expect(r.fileSize).toBe(4096n);
      expect(r.processingAt).toBeInstanceOf(Date);
    }
    expect(await get(rows.withFile!)).toMatchObject({ stopReason: 'worker_lost' });
    for (const id of [rows.noFile!, rows.startingOld!]) {
      expect(await get(id)).toMatchObject({ status: 'FAILED', errorCode: 'WORKER_LOST', errorFault: 'service' });
    }
    const mirror = await svc.db.prisma.videoCall.findUniqueOrThrow({ where: { id: 'rc-noFile' } });
    expect(mirror.recordingStatus).toBe('FAILED');
    // running it again finds nothing new to do
    const again = await svc.recordings.recover();
    expect(again.salvaged).toEqual([]);
    expect(again.failed).toEqual([]);
  });

  test("the recorder's own salvage() is used when it has one", async () => {
    const recorder = new FfmpegTestRecorder();
    const salvaged: string[] = [];
    Object.assign(recorder, {
      salvage: async (req: { id: string; outputPath: string }) => {
        salvaged.push(req.id);
        fs.writeFileSync(req.outputPath, Buffer.alloc(100, 2));
        return { path: req.outputPath, size: 100, durationMs: 5000 };
      },
    });
    await svc?.close();
    const p0 = await createService(testConfig({ DATABASE_URL: db.url }), { presence: false });
    await p0.db.prisma.videoCall.create({ data: { id: 'rc-spool', roomName: 'room-spool', hostId: 'h' } });
    const id = randomUUID();
    await p0.db.prisma.callRecording.create({
      data: {
        id, callId: 'rc-spool', requestedBy: 'h', status: 'RECORDING', options: DEFAULT_RECORDING_OPTIONS, outputFormat: 'mp4', filePath: path.join(out, 'spool.mp4'), workerId: 'dead',
        // what the dead worker last wrote of its streams: one sending, one removed earlier
        streams: [
          { type: 'rtmp', url: 'rtmp://a.com/live/redacted-00000000', status: 'ACTIVE', startedAt: new Date().toISOString(), endedAt: null, retries: 0, lastError: null, lastRetryAt: null },
          { type: 'srt', url: 'srt://b.com:9000', status: 'ENDED', startedAt: null, endedAt: new Date().toISOString(), retries: 0, lastError: null, lastRetryAt: null },
        ],
      },
    });
    await p0.close();
    svc = await createService(testConfig({ DATABASE_URL: db.url }), { recorder, presence: false });
    const report = await svc.start();
    expect(report.salvaged).toEqual([id]);
    expect(salvaged).toEqual([id]);
    await waitFor(async () => (await svc!.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).status === 'COMPLETED', 5000, 'COMPLETED');
    expect((await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).durationMs).toBe(5000);
    // the stream that was sending is not any more, and the view says why; the ended one is left as it was
    const streams = (await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).streams as { status: string; lastError: string | null; endedAt: string | null }[];
    expect(streams.map((s) => s.status)).toEqual(['FAILED', 'ENDED']);
    expect(streams[0]).toMatchObject({ lastError: expect.stringMatching(/worker streaming it was lost.*not restarted/), endedAt: expect.any(String) });
  });
  test("a salvage's HLS report reaches post-processing as a live recording's does: the manifest lists the playlist", async () => {
    await svc?.close();
    const config = testConfig({ DATABASE_URL: db.url, RECORDING_OUTPUT_DIR: tmpDir('rec-recovery-hls-') });
    const p0 = await createService(config, { presence: false });
    await p0.db.prisma.videoCall.create({ data: { id: 'rc-hls', roomName: 'room-hls', hostId: 'h' } });
    const id = randomUUID();
    const options = { ...DEFAULT_RECORDING_OPTIONS, format: 'mp4' as const, outputs: [{ type: 'hls' as const, segmentSeconds: 2, live: true }, { type: 'file' as const }] };
    await p0.db.prisma.callRecording.create({
      data: { id, callId: 'rc-hls', requestedBy: 'h', status: 'RECORDING', options, outputFormat: 'mp4', filePath: path.join(out, `${id}.mp4`), workerId: 'dead', recordingAt: new Date(Date.now() - 60_000) },
    });
    await p0.close();
    // what salvageRecording returns for it (hls-salvage.test.ts checks that against the stored playlist)
    const hls: HlsReport = { playlistKey: hlsPlaylistKey(config.storage.prefix, 'rc-hls', id), segments: 5, durationMs: 9900, missing: [], completedFromSpool: { reason: 'worker_lost', liveSegments: 3, liveDurationMs: 6000 } };
    const recorder = new FfmpegTestRecorder();
    Object.assign(recorder, {
      salvage: async (req: { outputPath: string }) => {
        await makeSyntheticRecording(req.outputPath, 'h264-aac.mp4', { durationSec: 2, width: 160, height: 90 });
        return { path: req.outputPath, size: fs.statSync(req.outputPath).size, durationMs: 2000, hls };
      },
    });
    const pp = createPostprocessing(config);
    try {
      svc = await createService(config, { recorder, postprocess: pp.postprocess, storage: pp.recordingStorage, presence: false, tuning: { postprocess: { pollMs: 100 } } });
      expect((await svc.start()).salvaged).toEqual([id]);
      const done = await waitFor(async () => {
        const r = await svc!.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
        return r.status === 'COMPLETED' ? r : null;
      }, 20000, 'salvaged COMPLETED');
      const chunks: Buffer[] = [];
      for await (const c of await pp.storage.createReadStream(done.manifestKey!)) chunks.push(c as Buffer);
      const manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { files: { kind: string }[]; quality: { warnings: { code: string }[] } };
      expect(manifest.files.filter((f) => f.kind === 'hls-playlist')).toEqual([
        { kind: 'hls-playlist', key: hls.playlistKey, contentType: 'application/vnd.apple.mpegurl', offsetMs: 0, durationMs: 9900, segments: 5, missingSegments: 0 },
      ]);
      // and the view's quality report says how the playlist was completed
      const quality = parseQuality(done.quality);
      expect(quality?.hls?.completedFromSpool).toEqual({ reason: 'worker_lost', liveSegments: 3, liveDurationMs: 6000 });
      expect(quality?.warnings.map((w) => w.code)).toEqual(['HLS_LIVE_INTERRUPTED']);
      expect(manifest.quality.warnings.map((w) => w.code)).toEqual(['HLS_LIVE_INTERRUPTED']);
    } finally {
      await svc?.close();
      svc = undefined;
      await pp.close();
    }
  }, 60000);
});
