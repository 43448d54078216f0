import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeSyntheticRecording } from '../helpers/synthetic-recording';
import { PostprocessAdapter } from '../../src/postprocess/service-adapter';
import type { PostprocessJob, PostprocessSink } from '../../src/recordings/ports';
import { LocalStorage } from '../../src/storage/local';

/**
 * The adapter with real ffmpeg and local storage: an attempt claimed while the previous
 * attempt of the same job is still finishing (the database queue's poller can do that
 * right after a retryable failure) runs after it, and is never dropped.
 */
let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pp-adapter-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

test('a second attempt of the same job waits for the first and then runs', async () => {
  const input = await makeSyntheticRecording(path.join(dir, 'in.mkv'), 'h264-opus.mkv', { durationSec: 2 });
  const storage = new LocalStorage({ dir: path.join(dir, 'store') });
  const adapter = new PostprocessAdapter(storage, { storage, workDir: path.join(dir, 'work') }, { removeLocalFile: false });
  const events: string[] = [];
  const sink: PostprocessSink = {
    uploading: async (id) => void events.push(`uploading ${id}`),
    thumbnailsGenerated: async () => undefined,
    completed: async (id) => void events.push(`completed ${id}`),
    failed: async (id, err) => void events.push(`failed ${id} ${(err as Error).message}`),
  };
  const job = (attempt: number): PostprocessJob => ({
    recordingId: 'rec-1',
    callId: 'call-1',
    roomName: 'room',
    filePath: input,
    format: 'mp4',
    fileSize: 1,
    options: { width: 640, height: 360, fps: 30, format: 'mp4', layout: 'grid' },
    quality: null,
    pauses: [],
    markers: [],
    attempt,
  });
  adapter.enqueue(job(1), sink);
  adapter.enqueue(job(2), sink);
  expect(adapter.pending).toBe(1);
  for (let i = 0; i < 200 && adapter.pending > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(adapter.pending).toBe(0);
  expect(events).toEqual(['uploading rec-1', 'completed rec-1', 'uploading rec-1', 'completed rec-1']);
  await adapter.close();
}, 60000);

test('an upload that fails at once is reported after the UPLOADING status is written, never before', async () => {
  // The database queue's failure write is conditional on the status it reads: reported before
  // the UPLOADING write landed, it matched nothing and the job sat until its lease ran out.
  const input = await makeSyntheticRecording(path.join(dir, 'in-fail.mkv'), 'h264-opus.mkv', { durationSec: 1 });
  const storage = new LocalStorage({ dir: path.join(dir, 'store-fail') });
  storage.put = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));
  const adapter = new PostprocessAdapter(storage, { storage, workDir: path.join(dir, 'work-fail') }, { removeLocalFile: false });
  const events: string[] = [];
  const sink: PostprocessSink = {
    uploading: async () => {
      await new Promise((r) => setTimeout(r, 300));
      events.push('uploading written');
    },
    thumbnailsGenerated: async () => undefined,
    completed: async () => void events.push('completed'),
    failed: async () => void events.push('failed'),
  };
  adapter.enqueue({ recordingId: 'rec-2', callId: 'call-1', roomName: 'room', filePath: input, format: 'mp4', fileSize: 1, options: { width: 640, height: 360, fps: 30, format: 'mp4', layout: 'grid' }, quality: null, pauses: [], markers: [], attempt: 1 }, sink);
  for (let i = 0; i < 200 && adapter.pending > 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(events).toEqual(['uploading written', 'failed']);
  await adapter.close();
}, 60000);
