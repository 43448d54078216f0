import { randomUUID } from 'node:crypto';
import { createService, type Service } from '../../src/app/http';
import { DEFAULT_RECORDING_OPTIONS } from '../../src/recordings/options';
import { AppError } from '../../src/errors';
import type { RecordingEventName } from '../../src/recordings/events';
import type { Actor } from '../../src/recordings/permissions';
import type { PostprocessJob, PostprocessPort, PostprocessSink } from '../../src/recordings/ports';
import { createTestDatabase } from '../helpers/services/postgres';
import { FfmpegTestRecorder, testConfig, waitFor } from './recordings-harness';

/** The recordings domain on PostgreSQL: state machine, failures, auto-stop, post-processing jobs. */
// the call app's token for the host names its rooms (any room here)
const host: Actor = { kind: 'user', userId: 'host-1', rooms: ['*'] };

/** A post-processor double that does what the test says. */
class ScriptedPostprocess implements PostprocessPort {
  jobs: PostprocessJob[] = [];
  constructor(public script: (job: PostprocessJob, sink: PostprocessSink) => Promise<void>) {}
  enqueue(job: PostprocessJob, sink: PostprocessSink): void {
    this.jobs.push(job);
    void this.script(job, sink).catch(() => undefined);
  }
}

describe('recordings lifecycle', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const services: Service[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('life');
  });
  afterAll(async () => {
    for (const s of services) await s.close();
    await db?.drop();
  });

  async function make(opts: { recorder?: FfmpegTestRecorder; postprocess?: PostprocessPort; env?: Record<string, string>; presence?: false } = {}) {
    const recorder = opts.recorder ?? new FfmpegTestRecorder();
    const svc = await createService(testConfig({ DATABASE_URL: db.url, POSTPROCESS_RETRY_BASE_SECONDS: '0.05', ...opts.env }), {
      recorder,
      ...(opts.postprocess ? { postprocess: opts.postprocess } : {}),
      ...(opts.presence === false ? { presence: false } : {}),
      tuning: { runner: { progressIntervalMs: 100 }, postprocess: { leaseMs: 60_000, pollMs: 0 } },
    });
    services.push(svc);
    const events: { name: RecordingEventName; p: any }[] = [];
    svc.bus.onAny((name, p) => events.push({ name, p }));
    return { svc, recorder, events };
  }
  async function newCall(svc: Service) {
    const id = `c-${randomUUID().slice(0, 8)}`;
    await svc.recordings.createCall(host, { id, roomName: `room-${id}`, hostId: 'host-1' });
    return id;
  }
  const statusOf = async (svc: Service, id: string) => (await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).status;
  const waitStatus = (svc: Service, id: string, status: string, ms = 15000) => waitFor(async () => (await statusOf(svc, id)) === status, ms, status);

  test('the full path writes every timestamp and emits every event in order', async () => {
    const pp = new ScriptedPostprocess(async (job, sink) => {
      await sink.uploading(job.recordingId);
      await sink.uploading(job.recordingId); // idempotent
      await sink.thumbnailsGenerated(job.recordingId, [{ key: 't/1.jpg', atMs: 0 }]);
      await sink.completed(job.recordingId, { storage: { provider: 's3', key: `rec/${job.recordingId}.mp4`, url: 'https://example.invalid/r.mp4' }, durationMs: 1234 });
    });
    const { svc, events } = await make({ postprocess: pp, presence: false });
    const callId = await newCall(svc);
    const { recording } = await svc.recordings.startRecording(host, callId, {});
    await waitStatus(svc, recording.id, 'RECORDING');
    await waitFor(() => events.some((e) => e.name === 'recordingProgress'), 5000, 'progress');
    await svc.recordings.stopRecording(host, callId);
    await waitStatus(svc, recording.id, 'COMPLETED');
    const row = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recording.id } });
    for (const k of ['startingAt', 'recordingAt', 'stoppingAt', 'processingAt', 'uploadingAt', 'completedAt'] as const) expect(row[k]).toBeInstanceOf(Date);
    expect(row.startingAt <= row.recordingAt! && row.recordingAt! <= row.stoppingAt! && row.stoppingAt! <= row.processingAt! && row.processingAt! <= row.uploadingAt! && row.uploadingAt! <= row.completedAt!).toBe(true);
    expect(row).toMatchObject({ storageProvider: 's3', durationMs: 1234, failedAt: null, errorCode: null, nextAttemptAt: null });
    expect(pp.jobs[0]).toMatchObject({ recordingId: recording.id, callId, format: 'mp4', attempt: 1 });
    expect(pp.jobs[0]!.fileSize).toBeGreaterThan(0);
    const call = await svc.db.prisma.videoCall.findUniqueOrThrow({ where: { id: callId } });
    expect(call).toMatchObject({ isRecorded: true, recordingStatus: 'COMPLETED', recordingUrl: 'https://example.invalid/r.mp4' });
    const names = events.filter((e) => e.p.recordingId === recording.id && e.name !== 'recordingProgress').map((e) => e.name);
    expect(names).toEqual(['recordingStarted', 'recordingStopping', 'recordingProcessing', 'thumbnailsGenerated', 'recordingUploaded', 'recordingCompleted']);
  });

  test('illegal transitions throw INVALID_TRANSITION and write nothing', async () => {
    const { svc } = await make({ presence: false });
    const callId = await newCall(svc);
    const id = randomUUID();
    await svc.db.prisma.callRecording.create({ data: { id, callId, requestedBy: 'host-1', status: 'COMPLETED', options: DEFAULT_RECORDING_OPTIONS, outputFormat: 'mp4' } });
    const repo = svc.lifecycle.repo;
    const before = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } });
    await expect(repo.transition(id, ['COMPLETED'], 'RECORDING')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await expect(repo.transition(id, ['STARTING'], 'RECORDING')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await expect(repo.transition(id, ['UPLOADING'], 'COMPLETED')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await expect(repo.transition(randomUUID(), ['STARTING'], 'RECORDING')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(repo.updateIf(id, {}, { status: 'FAILED' } as never)).rejects.toBeInstanceOf(AppError);
    expect(await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id } })).toEqual(before);
    // two racing moves from the same status: exactly one wins
    const id2 = randomUUID();
    await svc.db.prisma.callRecording.create({ data: { id: id2, callId, requestedBy: 'host-1', status: 'RECORDING', options: DEFAULT_RECORDING_OPTIONS, outputFormat: 'mp4' } });
    const results = await Promise.all([repo.tryTransition(id2, ['RECORDING'], 'STOPPING'), repo.tryTransition(id2, ['RECORDING'], 'FAILED'), repo.tryTransition(id2, ['RECORDING'], 'STOPPING')]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  test('starts racing with transitions of the active recording never deadlock', async () => {
    const { svc } = await make({ presence: false });
    const repo = svc.lifecycle.repo;
    for (let round = 0; round < 15; round++) {
      const callId = await newCall(svc);
      const id = randomUUID();
      await svc.db.prisma.callRecording.create({ data: { id, callId, requestedBy: 'host-1', status: 'STARTING', options: DEFAULT_RECORDING_OPTIONS, outputFormat: 'mp4' } });
      const starts = Array.from({ length: 4 }, () =>
        repo.createRecording({ id: randomUUID(), callId, requestedBy: 'host-1', options: DEFAULT_RECORDING_OPTIONS, outputFormat: 'mp4', maxDurationSeconds: 60, filePath: '/dev/null' }),
      );
      const moves = [repo.transition(id, ['STARTING'], 'RECORDING'), ...starts];
      const results = await Promise.allSettled(moves);
      expect(results[0]!.status).toBe('fulfilled');
      for (const r of results.slice(1)) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'RECORDING_ALREADY_ACTIVE' } });
    }
  });

  test('a recorder that cannot start: FAILED with its code and fault, and the call is free again', async () => {
    const recorder = new FfmpegTestRecorder({ failStart: new AppError('ROOM_CONNECTION_FAILED', 'recording ended early: connection to room failed') });
    const { svc, events } = await make({ recorder, presence: false });
    const callId = await newCall(svc);
    const { recording } = await svc.recordings.startRecording(host, callId, {});
    await waitStatus(svc, recording.id, 'FAILED');
    const row = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recording.id } });
    expect(row).toMatchObject({ errorCode: 'ROOM_CONNECTION_FAILED', errorFault: 'service', errorMessage: expect.stringContaining('connection to room failed') });
    expect(row.failedAt).toBeInstanceOf(Date);
    expect(events.find((e) => e.name === 'recordingFailed')!.p.error).toEqual({ code: 'ROOM_CONNECTION_FAILED', message: expect.any(String), fault: 'service' });
    expect((await svc.db.prisma.videoCall.findUniqueOrThrow({ where: { id: callId } })).recordingStatus).toBe('FAILED');
    const metrics = (await svc.metrics.render()).body;
    expect(metrics).toMatch(/recorder_recording_failures_total\{code="ROOM_CONNECTION_FAILED",fault="service"\} 1/);
    recorder.opts = {};
    const again = await svc.recordings.startRecording(host, callId, {});
    await waitStatus(svc, again.recording.id, 'RECORDING');
    await svc.recordings.stopRecording(host, callId);
    await waitStatus(svc, again.recording.id, 'COMPLETED');
  });

  test('a recorder that dies mid-recording: FAILED, ffmpeg gone', async () => {
    const recorder = new FfmpegTestRecorder({ crashAfterMs: 700 });
    const { svc } = await make({ recorder, presence: false });
    const callId = await newCall(svc);
    const { recording } = await svc.recordings.startRecording(host, callId, {});
    await waitStatus(svc, recording.id, 'FAILED');
    expect((await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recording.id } })).errorCode).toBe('FFMPEG_FAILED');
    expect(recorder.allExited()).toBe(true);
    expect(svc.runner!.activeCount()).toBe(0);
  });

  test('max duration stops the recording by itself', async () => {
    const { svc } = await make({ presence: false });
    const callId = await newCall(svc);
    const { recording } = await svc.recordings.startRecording(host, callId, { maxDurationSeconds: 1 });
    await waitStatus(svc, recording.id, 'COMPLETED', 10000);
    const row = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recording.id } });
    expect(row.stopReason).toBe('max_duration');
    expect(row.stoppingAt!.getTime() - row.startingAt.getTime()).toBeLessThan(4000);
  });

  test('a room that stays empty stops the recording (LiveKit RoomService)', async () => {
    const { svc } = await make({ env: { RECORDING_IDLE_TIMEOUT_SECONDS: '1' } });
    const callId = await newCall(svc);
    const { recording } = await svc.recordings.startRecording(host, callId, {});
    await waitStatus(svc, recording.id, 'COMPLETED', 15000);
    expect((await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recording.id } })).stopReason).toBe('room_ended');
  });

  test('the empty room is counted in recorded time: not while paused', async () => {
    const { svc } = await make({ env: { RECORDING_IDLE_TIMEOUT_SECONDS: '2' } });
    const callId = await newCall(svc);
    const { recording } = await svc.recordings.startRecording(host, callId, {});
    await waitStatus(svc, recording.id, 'RECORDING');
    await svc.recordings.pauseRecording(host, callId);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await statusOf(svc, recording.id)).toBe('PAUSED');
    const resumedAt = Date.now();
    await svc.recordings.resumeRecording(host, callId);
    await waitStatus(svc, recording.id, 'COMPLETED', 15000);
    const row = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recording.id } });
    expect(row.stopReason).toBe('room_ended');
    // what was left of the 2 s after the empty time before the pause
    expect(row.stoppingAt!.getTime() - resumedAt).toBeGreaterThan(1000);
  });

  test('post-processing: retryable failures back off and retry, then complete', async () => {
    let attempts = 0;
    const pp = new ScriptedPostprocess(async (job, sink) => {
      attempts++;
      if (job.attempt < 3) return sink.failed(job.recordingId, new AppError('STORAGE_UNAVAILABLE', 'bucket unreachable'));
      await sink.completed(job.recordingId, { storage: { provider: 'local', key: job.filePath } });
    });
    const { svc } = await make({ postprocess: pp, presence: false });
    const callId = await newCall(svc);
    const { recording } = await svc.recordings.startRecording(host, callId, {});
    await waitStatus(svc, recording.id, 'RECORDING');
    await svc.recordings.stopRecording(host, callId);
    await waitFor(async () => (await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recording.id } })).lastError !== null, 10000, 'first failure');
    let row = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recording.id } });
    expect(row).toMatchObject({ status: 'PROCESSING', attempts: 1, lastError: 'STORAGE_UNAVAILABLE: bucket unreachable' });
    await waitFor(async () => {
      await svc.postprocess.pollOnce();
      return (await statusOf(svc, recording.id)) === 'COMPLETED';
    }, 10000, 'retries');
    row = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recording.id } });
    expect(row.attempts).toBe(3);
    expect(attempts).toBe(3);
  });

  test('post-processing: a lost attempt is taken over after its lease; exhausted attempts FAIL', async () => {
    const pp = new ScriptedPostprocess(async () => undefined); // never reports: its worker "died"
    const { svc } = await make({ postprocess: pp, presence: false });
    const callId = await newCall(svc);
    const { recording } = await svc.recordings.startRecording(host, callId, {});
    await waitStatus(svc, recording.id, 'RECORDING');
    await svc.recordings.stopRecording(host, callId);
    await waitStatus(svc, recording.id, 'PROCESSING');
    expect(await svc.postprocess.pollOnce()).toBe(0); // lease still held
    const expire = () => svc.db.prisma.callRecording.update({ where: { id: recording.id }, data: { nextAttemptAt: new Date(Date.now() - 1000) } });
    for (let i = 2; i <= 5; i++) {
      await expire();
      expect(await svc.postprocess.pollOnce()).toBe(1);
      expect(pp.jobs.at(-1)!.attempt).toBe(i);
    }
    await expire();
    await svc.postprocess.pollOnce();
    const row = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recording.id } });
    expect(row).toMatchObject({ status: 'FAILED', errorCode: 'POSTPROCESS_EXHAUSTED' });
    // a non-retryable failure fails at once
    const pp2 = new ScriptedPostprocess(async (job, sink) => sink.failed(job.recordingId, new AppError('RECORDING_CORRUPT', 'no video stream')));
    const { svc: svc2 } = await make({ postprocess: pp2, presence: false });
    const callId2 = await newCall(svc2);
    const r2 = await svc2.recordings.startRecording(host, callId2, {});
    await waitStatus(svc2, r2.recording.id, 'RECORDING');
    await svc2.recordings.stopRecording(host, callId2);
    await waitStatus(svc2, r2.recording.id, 'FAILED');
    expect((await svc2.db.prisma.callRecording.findUniqueOrThrow({ where: { id: r2.recording.id } })).errorCode).toBe('RECORDING_CORRUPT');
  });

  test('post-processing: of two processes polling at once, one takes a due job', async () => {
    const ppA = new ScriptedPostprocess(async () => undefined);
    const ppB = new ScriptedPostprocess(async () => undefined);
    const { svc: a } = await make({ postprocess: ppA, presence: false });
    const { svc: b } = await make({ postprocess: ppB, presence: false });
    const callId = await newCall(a);
    const { recording } = await a.recordings.startRecording(host, callId, {});
    await waitStatus(a, recording.id, 'RECORDING');
    await a.recordings.stopRecording(host, callId);
    await waitStatus(a, recording.id, 'PROCESSING');
    for (let round = 2; round <= 4; round++) {
      await a.db.prisma.callRecording.update({ where: { id: recording.id }, data: { nextAttemptAt: new Date(Date.now() - 1000) } });
      const taken = await Promise.all([a.postprocess.pollOnce(), b.postprocess.pollOnce()]);
      expect(taken[0] + taken[1]).toBe(1);
      expect([...ppA.jobs, ...ppB.jobs].map((j) => j.attempt).sort()).toEqual(Array.from({ length: round }, (_, i) => i + 1));
    }
  });

  test('NO_CAPACITY when every slot is busy: the refused recording is FAILED, not left active', async () => {
    const { svc } = await make({ env: { RECORDER_MAX_CONCURRENT: '1' }, presence: false });
    const [a, b] = [await newCall(svc), await newCall(svc)];
    const first = await svc.recordings.startRecording(host, a, {});
    await expect(svc.recordings.startRecording(host, b, {})).rejects.toMatchObject({ code: 'NO_CAPACITY', status: 503 });
    const refused = await svc.db.prisma.callRecording.findFirstOrThrow({ where: { callId: b } });
    expect(refused).toMatchObject({ status: 'FAILED', errorCode: 'NO_CAPACITY' });
    await waitStatus(svc, first.recording.id, 'RECORDING');
    await svc.recordings.stopRecording(host, a);
    await waitStatus(svc, first.recording.id, 'COMPLETED');
  });

  test('the CPU budget decides what a worker takes: two 720p canvas recordings fit in one core, a third or a custom layout page does not', async () => {
    const { svc } = await make({
      env: { RECORDER_MAX_CONCURRENT: '8', RECORDER_CPU_BUDGET: '1', RECORDER_COST_CANVAS: '0.35', RECORDER_COST_CUSTOM_LAYOUT: '0.8', RECORDER_CUSTOM_LAYOUT_ORIGINS: 'http://127.0.0.1:9' },
      presence: false,
    });
    const calls = [await newCall(svc), await newCall(svc), await newCall(svc), await newCall(svc)];
    const first = await svc.recordings.startRecording(host, calls[0]!, {});
    const second = await svc.recordings.startRecording(host, calls[1]!, {});
    expect(svc.runner!.load()).toEqual({ active: 2, committed: expect.closeTo(0.7, 5) });
    await expect(svc.recordings.startRecording(host, calls[2]!, {})).rejects.toMatchObject({ code: 'NO_CAPACITY', status: 503, message: expect.stringMatching(/needs 0\.35 cores and 0\.30 of 1 are free \(RECORDER_CPU_BUDGET\)/) });
    // a smaller picture costs less (down to half): 640x360 at 15 fps fits in what is left
    const small = await svc.recordings.startRecording(host, calls[2]!, { width: 640, height: 360, fps: 15 });
    await svc.recordings.stopRecording(host, calls[1]!);
    await waitStatus(svc, second.recording.id, 'COMPLETED');
    // 0.35 + 0.175 committed: a custom layout page (0.8) does not fit
    await expect(svc.recordings.startRecording(host, calls[3]!, { customLayoutUrl: 'http://127.0.0.1:9/layout.html' })).rejects.toMatchObject({ code: 'NO_CAPACITY' });
    for (const [callId, rec] of [[calls[0]!, first], [calls[2]!, small]] as const) {
      await svc.recordings.stopRecording(host, callId);
      await waitStatus(svc, rec.recording.id, 'COMPLETED');
    }
    // an idle worker takes even a recording bigger than its budget (1080p custom layout: 1.8 cores)
    const calls5 = await newCall(svc);
    const big = await svc.recordings.startRecording(host, calls5, { resolution: '1080p', customLayoutUrl: 'http://127.0.0.1:9/layout.html' });
    expect(svc.runner!.load().committed).toBeCloseTo(1.8, 5);
    await svc.recordings.stopRecording(host, calls5);
    await waitStatus(svc, big.recording.id, 'COMPLETED');
  });

  test('close() stops live recordings (shutdown) and they still reach post-processing', async () => {
    const { svc, recorder } = await make({ presence: false });
    const callId = await newCall(svc);
    const { recording } = await svc.recordings.startRecording(host, callId, {});
    await waitStatus(svc, recording.id, 'RECORDING');
    await svc.runner!.close();
    expect(recorder.allExited()).toBe(true);
    const row = await svc.db.prisma.callRecording.findUniqueOrThrow({ where: { id: recording.id } });
    expect(['PROCESSING', 'COMPLETED']).toContain(row.status);
    expect(row.stopReason).toBe('shutdown');
  });
});
