import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkFreeSpace } from '../../src/postprocess/disk';
import { PostProcessor, type PostprocessProgress, type PostprocessStatus, type ProcessedRecording } from '../../src/postprocess/processor';
import { cleanupDir, deleteRecordingFiles } from '../../src/postprocess/retention';
import { processTree } from '../../src/observability/process-tree';
import { remuxFile } from '../../src/recorder/ffmpeg-sink';
import { probe } from '../../src/recorder/probe';
import { LocalStorage } from '../../src/storage';
import { makeSyntheticRecording } from '../helpers/synthetic-recording';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-proc-'));
const storeDir = path.join(tmp, 'store');
const workDir = path.join(tmp, 'work');
let mkv: string; // what the recorder hands over: H.264 + Opus in Matroska
let webm: string; // VP8 + Opus
const storage = new LocalStorage({ dir: storeDir });

beforeAll(async () => {
  [mkv, webm] = await Promise.all([
    makeSyntheticRecording(path.join(tmp, 'in.mkv'), 'h264-opus.mkv', { durationSec: 8, width: 640, height: 360 }),
    makeSyntheticRecording(path.join(tmp, 'in.webm'), 'vp8-opus.webm', { durationSec: 4, width: 640, height: 360 }),
  ]);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function processor(extra: Partial<ConstructorParameters<typeof PostProcessor>[0]> = {}) {
  return new PostProcessor({ storage, workDir, prefix: 'rec/', thumbnailWidth: 320, ...extra });
}

/** ffmpeg and ffprobe processes below this one. */
function liveChildren(): number[] {
  const comm = (pid: number) => { try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; } };
  return processTree(process.pid).filter((pid) => pid !== process.pid && ['ffmpeg', 'ffprobe'].includes(comm(pid)));
}

/** Mean and standard deviation of a JPEG's luma, decoded by ffmpeg. */
function luma(file: string): { mean: number; sd: number; hash: string } {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { maxBuffer: 64 << 20 });
  let sum = 0;
  for (const b of raw) sum += b;
  const mean = sum / raw.length;
  let v = 0;
  for (const b of raw) v += (b - mean) ** 2;
  return { mean, sd: Math.sqrt(v / raw.length), hash: crypto.createHash('sha1').update(raw).digest('hex') };
}

/** Top-level MP4 boxes in order (faststart puts moov before mdat). */
function mp4Boxes(file: string): string[] {
  const buf = fs.readFileSync(file);
  const out: string[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    let size = buf.readUInt32BE(i);
    const type = buf.toString('latin1', i + 4, i + 8);
    if (size === 1) size = Number(buf.readBigUInt64BE(i + 8));
    out.push(type);
    if (size < 8) break;
    i += size;
  }
  return out;
}

describe('PostProcessor', () => {
  let result: ProcessedRecording;
  const statuses: PostprocessStatus[] = [];
  const progress: PostprocessProgress[] = [];

  it('remuxes to MP4 (+faststart), makes 5 thumbnails and a poster, uploads all, with status and progress events', async () => {
    const p = processor();
    p.on('status', (s) => statuses.push(s.status));
    p.on('progress', (e) => progress.push(e));
    result = await p.process({ recordingId: 'rec-1', callId: 'call-1', inputPath: mkv, format: 'mp4' });

    expect(statuses).toEqual(['PROCESSING', 'UPLOADING']);
    expect(progress.length).toBeGreaterThan(3);
    for (let i = 1; i < progress.length; i++) expect(progress[i].percent).toBeGreaterThan(progress[i - 1].percent);
    expect(progress.at(-1)!.percent).toBe(100);

    expect(result.conversion).toEqual({ video: 'copy', audio: 'transcode', rewritten: true }); // H.264 kept, Opus -> AAC
    expect(result.durationMs).toBeGreaterThan(7800);
    expect(result.durationMs).toBeLessThan(8300);
    expect(result.video.key).toBe('rec/call-1/rec-1/recording.mp4');
    expect(result.video.contentType).toBe('video/mp4');
    const stored = storage.pathOf(result.video.key);
    expect(fs.statSync(stored).size).toBe(result.video.size);
    const boxes = mp4Boxes(stored);
    expect(boxes.indexOf('moov')).toBeGreaterThanOrEqual(0);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    const info = await probe('ffprobe', stored);
    expect(info.video).toMatchObject({ codec: 'h264', width: 640, height: 360 });
    expect(info.audio?.codec).toBe('aac');

    expect(fs.existsSync(mkv)).toBe(true); // the input is the recorder's: removed by the adapter once COMPLETED is stored
    expect(fs.existsSync(path.join(workDir, 'rec-1'))).toBe(false); // scratch space removed
    expect(liveChildren()).toEqual([]);
  });

  it('thumbnails: 5 images at distinct timestamps, 320 px wide keeping aspect, not blank, all different', () => {
    expect(result.thumbnails.map((t) => t.key)).toEqual([1, 2, 3, 4, 5].map((i) => `rec/call-1/rec-1/thumbnails/thumb-${i}.jpg`));
    const at = result.thumbnails.map((t) => t.atMs);
    expect(new Set(at).size).toBe(5);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(at[0]).toBeGreaterThan(result.durationMs * 0.05);
    expect(at[4]).toBeLessThan(result.durationMs * 0.95);
    const hashes = new Set<string>();
    for (const t of result.thumbnails) {
      expect([t.width, t.height]).toEqual([320, 180]);
      const file = storage.pathOf(t.key);
      expect(fs.statSync(file).size).toBe(t.size);
      const l = luma(file);
      expect(l.sd).toBeGreaterThan(10); // a picture, not a flat frame
      expect(l.mean).toBeGreaterThan(10);
      hashes.add(l.hash);
    }
    expect(hashes.size).toBe(5);
    expect(result.poster).toMatchObject({ key: 'rec/call-1/rec-1/poster.jpg', width: 640, height: 360, contentType: 'image/jpeg' });
    expect(luma(storage.pathOf(result.poster!.key)).sd).toBeGreaterThan(10);
  });

  it("uploads the recorder's MP4 as it is: no second pass, thumbnails and poster still made", async () => {
    const recorded = path.join(tmp, 'recorded.mp4');
    await remuxFile('ffmpeg', mkv, recorded, { format: 'mp4', videoCodec: 'h264', audioShiftMs: -100 }); // what the recorder's sink writes
    const r = await processor().process({ recordingId: 'rec-kept', callId: 'call-1', inputPath: recorded, format: 'mp4' });
    expect(r.conversion).toEqual({ video: 'copy', audio: 'copy', rewritten: false });
    expect(fs.readFileSync(storage.pathOf(r.video.key)).equals(fs.readFileSync(recorded))).toBe(true);
    expect(r.thumbnails).toHaveLength(5);
    expect(r.poster).not.toBeNull();
    expect(fs.existsSync(recorded)).toBe(true);
    expect(r.durationMs).toBe((await probe('ffprobe', recorded)).durationMs);
  });

  it('keeps VP8/Opus WebM as it is, but rewrites one that states no duration (a raw spool) or an MP4 with its index last', async () => {
    const kept = await processor().process({ recordingId: 'rec-2', callId: 'call-1', inputPath: webm, format: 'webm' });
    expect(kept.conversion).toEqual({ video: 'copy', audio: 'copy', rewritten: false });
    expect(kept.thumbnails).toHaveLength(5);

    // written live, as MediaRecorder's stream reaches the spool: no duration, no cues
    const spool = path.join(tmp, 'spool.webm');
    fs.writeFileSync(spool, execFileSync('ffmpeg', ['-v', 'error', '-i', webm, '-c', 'copy', '-f', 'webm', '-live', '1', 'pipe:1'], { maxBuffer: 64 << 20 }));
    expect((await probe('ffprobe', spool)).durationMs).toBe(0);
    const fromSpool = await processor().process({ recordingId: 'rec-spool', callId: 'call-1', inputPath: spool, format: 'webm' });
    expect(fromSpool.conversion).toEqual({ video: 'copy', audio: 'copy', rewritten: true });
    expect((await probe('ffprobe', storage.pathOf(fromSpool.video.key))).durationMs).toBeGreaterThan(3800);

    const indexLast = path.join(tmp, 'index-last.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', mkv, '-c:v', 'copy', '-c:a', 'aac', indexLast]);
    expect(mp4Boxes(indexLast).indexOf('moov')).toBeGreaterThan(mp4Boxes(indexLast).indexOf('mdat'));
    const moved = await processor().process({ recordingId: 'rec-index', callId: 'call-1', inputPath: indexLast, format: 'mp4' });
    expect(moved.conversion).toEqual({ video: 'copy', audio: 'copy', rewritten: true });
    const boxes = mp4Boxes(storage.pathOf(moved.video.key));
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
  });

  it("makes a WebM from the recorder's Matroska: VP8 encoded in the background (nice 19, SCHED_IDLE, a session of its own weighed at nice 19), Opus copied", async () => {
    const seen: { nice: number; policy: number; ownSession: boolean; sessionNice: number }[] = [];
    const ourSession = Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[3]);
    const watch = setInterval(() => {
      for (const pid of liveChildren()) {
        try {
          const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
          const sessionNice = Number(/nice (-?\d+)/.exec(fs.readFileSync(`/proc/${pid}/autogroup`, 'utf8'))?.[1]);
          // fields 19 and 41 of stat, and its session (field 6): not the worker's, whose weight may be raised
          if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('libvpx')) seen.push({ nice: Number(f[16]), policy: Number(f[38]), ownSession: Number(f[3]) !== ourSession, sessionNice });
        } catch {
          /* exited */
        }
      }
    }, 20);
    const r = await processor().process({ recordingId: 'rec-webm', callId: 'call-1', inputPath: mkv, format: 'webm' }).finally(() => clearInterval(watch));
    expect(r.conversion).toEqual({ video: 'transcode', audio: 'copy', rewritten: true });
    const info = await probe('ffprobe', storage.pathOf(r.video.key), { countFrames: true });
    expect(info.streams.map((s) => `${s.type}:${s.codec}`)).toEqual(['video:vp8', 'audio:opus']);
    expect(info.video!.frames).toBe((await probe('ffprobe', mkv, { countFrames: true })).video!.frames);
    expect(r.thumbnails).toHaveLength(5);
    expect(seen.length).toBeGreaterThan(0);
    // SCHED_IDLE is policy 5; the first sample may come before chrt has set it
    expect(seen.at(-1)).toEqual({ nice: 19, policy: 5, ownSession: true, sessionNice: 19 });
  });

  it('delivers audio only (m4a) without thumbnails', async () => {
    const r = await processor().process({ recordingId: 'rec-3', callId: 'call-1', inputPath: mkv, format: 'm4a' });
    expect(r.conversion).toEqual({ video: 'none', audio: 'transcode', rewritten: true });
    expect(r.video.key).toBe('rec/call-1/rec-3/recording.m4a');
    expect(r.thumbnails).toEqual([]);
    expect(r.poster).toBeNull();
    expect((await probe('ffprobe', storage.pathOf(r.video.key))).video).toBeUndefined();
  });

  describe('bad recordings fail with a clear code and keep the file', () => {
    const cases: Array<[string, () => string, string]> = [
      ['an empty file', () => { const f = path.join(tmp, 'empty.mkv'); fs.writeFileSync(f, ''); return f; }, 'RECORDING_EMPTY'],
      ['a missing file', () => path.join(tmp, 'missing.mkv'), 'RECORDING_EMPTY'],
      ['random bytes', () => { const f = path.join(tmp, 'noise.mkv'); fs.writeFileSync(f, crypto.randomBytes(300_000)); return f; }, 'RECORDING_CORRUPT'],
      ['an MP4 cut before its index', () => {
        const full = path.join(tmp, 'full.mp4');
        execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', mkv, '-c:v', 'copy', '-an', full]); // moov at the end
        const f = path.join(tmp, 'cut.mp4');
        fs.writeFileSync(f, fs.readFileSync(full).subarray(0, 200_000));
        return f;
      }, 'RECORDING_CORRUPT'],
    ];
    it.each(cases)('%s', async (_name, make, code) => {
      const input = make();
      await expect(processor().process({ recordingId: `bad-${code}`, callId: 'call-1', inputPath: input, format: 'mp4' })).rejects.toMatchObject({ code });
      if (!input.endsWith('missing.mkv')) expect(fs.existsSync(input)).toBe(true);
      expect(await storage.list(`rec/call-1/bad-${code}/`)).toEqual([]);
      expect(liveChildren()).toEqual([]);
    });
  });

  it('an abort kills its ffmpeg and fails with JOB_ABORTED', async () => {
    const p = processor();
    const ctl = new AbortController();
    let pidsWhileRunning: number[] = [];
    p.on('progress', (e) => {
      if (e.phase === 'convert' && !ctl.signal.aborted) {
        pidsWhileRunning = liveChildren();
        ctl.abort();
      }
    });
    // H.264 -> VP8 is a real encode, slow enough to be caught in the middle
    await expect(p.process({ recordingId: 'rec-abort', callId: 'call-1', inputPath: mkv, format: 'webm' }, { signal: ctl.signal })).rejects.toMatchObject({ code: 'JOB_ABORTED' });
    expect(pidsWhileRunning.length).toBe(1);
    expect(liveChildren()).toEqual([]);
    for (const pid of pidsWhileRunning) expect(() => process.kill(pid, 0)).toThrow();
    expect(fs.existsSync(path.join(workDir, 'rec-abort'))).toBe(false);
  });

  it('refuses to start without enough disk space (DISK_FULL)', async () => {
    await expect(checkFreeSpace(tmp, 1024 * 1024 * 1024)).rejects.toMatchObject({ code: 'DISK_FULL', fault: 'destination' });
    const ok = await checkFreeSpace(path.join(tmp, 'not', 'yet', 'made'), 1);
    expect(ok.freeMb).toBeGreaterThan(1);
    await expect(processor({ minFreeDiskMb: 1024 * 1024 * 1024 }).process({ recordingId: 'rec-full', callId: 'call-1', inputPath: mkv, format: 'mp4' }))
      .rejects.toMatchObject({ code: 'DISK_FULL' });
  });
});

describe('deletion and retention', () => {
  it('deleting a recording removes video, thumbnails, poster and local files', async () => {
    const local = path.join(tmp, 'spool-rec-1.webm');
    fs.writeFileSync(local, 'x');
    expect((await storage.list('rec/call-1/rec-1/')).length).toBe(7);
    const r = await deleteRecordingFiles(storage, 'rec/', { callId: 'call-1', recordingId: 'rec-1', localPaths: [local] });
    expect(r).toEqual({ objects: 7, localFiles: 1 });
    expect(await storage.list('rec/call-1/rec-1/')).toEqual([]);
    expect(fs.existsSync(local)).toBe(false);
    expect((await storage.list('rec/call-1/rec-2/')).length).toBe(7); // others untouched
  });

  it('cleans stale spool/temp entries and keeps fresh or protected ones', async () => {
    const spool = path.join(tmp, 'spool');
    fs.mkdirSync(path.join(spool, 'old-dir'), { recursive: true });
    fs.writeFileSync(path.join(spool, 'old-dir', 'chunk'), 'x');
    fs.writeFileSync(path.join(spool, 'old.webm'), 'x');
    fs.writeFileSync(path.join(spool, 'kept.webm'), 'x');
    fs.writeFileSync(path.join(spool, 'fresh.webm'), 'x');
    const old = new Date(Date.now() - 3 * 86400_000);
    for (const f of ['old-dir/chunk', 'old-dir', 'old.webm', 'kept.webm']) fs.utimesSync(path.join(spool, f), old, old);
    const removed = await cleanupDir(spool, 86400_000, { keep: [path.join(spool, 'kept.webm')] });
    expect(removed.map((p) => path.basename(p)).sort()).toEqual(['old-dir', 'old.webm']);
    expect(fs.readdirSync(spool).sort()).toEqual(['fresh.webm', 'kept.webm']);
    expect(await cleanupDir(path.join(tmp, 'nope'), 1)).toEqual([]);
  });
});
