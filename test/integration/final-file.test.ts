import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { finishFile } from '../../src/recorder/final-file';
import { silentLogger } from '../../src/recorder/logger';

/**
 * The recording's file when the disk is full: the spool (everything captured) becomes the
 * file instead of the recording failing. A real full filesystem: a 512 KiB tmpfs (root).
 */
describe('the final file on a full disk', () => {
  let dir: string;
  let small: string;
  let spool: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'final-file-'));
    small = path.join(dir, 'small');
    fs.mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', small]);
    // what MediaRecorder sends: H.264 + Opus in WebM (Matroska; FFmpeg's webm muxer refuses H.264), 3 s, larger than the small disk
    spool = path.join(dir, 'rec.webm');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=500', '-t', '3', '-c:v', 'libx264', '-b:v', '4M', '-c:a', 'libopus', '-f', 'matroska', spool]);
    expect(fs.statSync(spool).size).toBeGreaterThan(1024 * 1024);
  });

  afterAll(() => {
    if (small) execFileSync('umount', [small]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the spool as the recording when the remux cannot be written (DISK_FULL), nothing half-written left', async () => {
    const outputPath = path.join(small, 'rec.mp4');
    const file = await finishFile({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', log: silentLogger, spoolPath: spool, outputPath, spec: { format: 'mp4', videoCodec: 'h264' } });
    expect(file).toMatchObject({ path: spool, size: fs.statSync(spool).size });
    expect(file.durationMs).toBeGreaterThan(2900);
    expect(file.fps).toBeGreaterThan(29);
    expect(fs.existsSync(outputPath)).toBe(false);
  });

  it('remuxes into the output when there is room', async () => {
    const outputPath = path.join(dir, 'rec.mp4');
    const file = await finishFile({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', log: silentLogger, spoolPath: spool, outputPath, spec: { format: 'mp4', videoCodec: 'h264' } });
    expect(file.path).toBe(outputPath);
    expect(file.durationMs).toBeGreaterThan(2900);
  });
});
