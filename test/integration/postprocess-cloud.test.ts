import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PostProcessor } from '../../src/postprocess/processor';
import { deleteRecordingFiles } from '../../src/postprocess/retention';
import { jpegSize } from '../../src/postprocess/thumbnails';
import { probe } from '../../src/recorder/probe';
import { makeSyntheticRecording } from '../helpers/synthetic-recording';
import { createStorage, type Storage, type StorageConfig } from '../../src/storage';

/** Processing straight into the S3 and GCS emulators, read back through signed URLs. */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-cloud-'));
let input: string;
beforeAll(async () => {
  input = await makeSyntheticRecording(path.join(tmp, 'in.mkv'), 'h264-opus.mkv', { durationSec: 5, width: 640, height: 360 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const env = process.env;
const base = { region: 'us-east-1', prefix: 'pp-cloud/', signedUrlSeconds: 300, localDir: tmp };
describe.each<[string, StorageConfig]>([
  ['S3', { ...base, provider: 'aws', bucket: env.TEST_S3_BUCKET, endpoint: env.TEST_S3_ENDPOINT, credentials: env.TEST_S3_CREDENTIALS }],
  ['GCS', { ...base, provider: 'gcp', bucket: env.TEST_GCS_BUCKET, endpoint: env.TEST_GCS_ENDPOINT, credentials: env.TEST_GCS_CREDENTIALS }],
])('post-processing into %s', (_name, cfg) => {
  let storage: Storage;
  beforeAll(() => { storage = createStorage(cfg); });
  afterAll(() => storage.close());

  it('uploads video, thumbnails and poster that download intact, and deletes them all', async () => {
    const p = new PostProcessor({ storage, prefix: cfg.prefix, workDir: path.join(tmp, 'work') });
    const r = await p.process({ recordingId: 'r1', callId: 'c1', inputPath: input, format: 'mp4' });
    expect(r.video.key).toBe('pp-cloud/c1/r1/recording.mp4');
    expect(r.video.url).toMatch(/^http:\/\/127\.0\.0\.1/);

    const video = Buffer.from(await (await fetch(r.video.url!)).arrayBuffer());
    expect(video.length).toBe(r.video.size);
    const local = path.join(tmp, `${cfg.provider}-download.mp4`);
    fs.writeFileSync(local, video);
    const info = await probe('ffprobe', local);
    expect(info.video).toMatchObject({ codec: 'h264', width: 640, height: 360 });
    expect(Math.abs(info.durationMs - 5000)).toBeLessThan(300);

    for (const img of [...r.thumbnails, r.poster!]) {
      const bytes = Buffer.from(await (await fetch(img.url!)).arrayBuffer());
      expect(jpegSize(bytes)).toEqual({ width: img.width, height: img.height });
    }
    expect((await storage.list('pp-cloud/c1/r1/')).length).toBe(7);
    expect(await deleteRecordingFiles(storage, cfg.prefix, { callId: 'c1', recordingId: 'r1' })).toEqual({ objects: 7, localFiles: 0 });
    expect(await storage.list('pp-cloud/c1/r1/')).toEqual([]);
  });
});
