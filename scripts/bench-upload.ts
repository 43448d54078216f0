/**
 * Post-processing + upload benchmark.
 *
 *   npx tsx scripts/bench-upload.ts [--runs 3] [--seconds 60] [--large-mib 300] [--small-mib 50]
 *
 * 1. stop-to-complete: a 60 s 1280x720 recording through PostProcessor.process() - probe,
 *    conversion when one is needed, 5 thumbnails + poster, upload - into local storage, S3
 *    (moto) and GCS (fake-gcs-server); median of N runs each, with the CPU time it took
 *    (this process and every FFmpeg it started). Two inputs: the MP4 the recorder writes
 *    for format mp4 (H.264 + AAC, faststart, made by the recorder's own remux of a
 *    MediaRecorder-like stream), and H.264 + Opus in MKV, which needs a pass (Opus -> AAC).
 * 2. memory: peak RSS of this process while uploading a small and a large file to each
 *    provider (sampled every 10 ms), showing that memory does not grow with file size.
 * The emulators are started on free 127.0.0.1 ports through test/helpers/services.
 * Prints a table, then one JSON line.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PostProcessor } from '../src/postprocess/processor';
import { remuxFile } from '../src/recorder/ffmpeg-sink';
import { createStorage, type Storage, type StorageConfig } from '../src/storage';
import * as s3 from '../test/helpers/services/s3';
import * as gcs from '../test/helpers/services/gcs';
import { makeSyntheticRecording } from '../test/helpers/synthetic-recording';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const RUNS = arg('runs', 3);
const SECONDS = arg('seconds', 60);
const LARGE_MIB = arg('large-mib', 300);
const SMALL_MIB = arg('small-mib', 50);
const MiB = 1024 * 1024;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** CPU time (ms) of this process and of its children that have exited (ffmpeg, ffprobe). */
function cpuMs(): number {
  const own = process.cpuUsage();
  // /proc/self/stat fields 16 and 17: cutime, cstime of waited-for children, in clock ticks (100/s)
  const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return Math.round((own.user + own.system) / 1000 + (Number(f[13]) + Number(f[14])) * 10);
}

async function writeRandomFile(file: string, mib: number): Promise<void> {
  const out = fs.createWriteStream(file);
  const block = crypto.randomBytes(MiB);
  for (let i = 0; i < mib; i++) {
    block.writeUInt32BE(i, 0); // not all blocks identical
    if (!out.write(Buffer.from(block))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Peak RSS (MiB) while fn runs, sampled every 10 ms, and RSS before it. */
async function peakRss<T>(fn: () => Promise<T>): Promise<{ before: number; peak: number; ms: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 10);
  const t0 = Date.now();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return { before: Math.round(before / MiB), peak: Math.round(peak / MiB), ms: Date.now() - t0 };
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-upload-'));
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    process.stderr.write(`starting emulators, making a ${SECONDS} s 720p recording...\n`);
    const [s3emu, gcsemu, mkv] = await Promise.all([
      s3.start(),
      gcs.start(),
      makeSyntheticRecording(path.join(tmp, 'input.mkv'), 'h264-opus.mkv', { durationSec: SECONDS, width: 1280, height: 720, fps: 30, videoBitrate: '2500k' }),
    ]);
    started.push(s3emu, gcsemu);
    // what the recorder's FFmpeg sink writes for format mp4 (the same arguments, default A/V offset)
    const mp4 = path.join(tmp, 'recorder.mp4');
    await remuxFile('ffmpeg', mkv, mp4, { format: 'mp4', videoCodec: 'h264', audioShiftMs: -100 });
    const inputs: Array<[string, string]> = [['recorder mp4', mp4], ['mkv', mkv]];
    const base = { region: 'us-east-1', prefix: 'bench/', signedUrlSeconds: 900, localDir: path.join(tmp, 'local-store') };
    const targets: Array<[string, StorageConfig]> = [
      ['local', { ...base, provider: 'local' }],
      ['s3', { ...base, provider: 'aws', bucket: s3emu.env.TEST_S3_BUCKET, endpoint: s3emu.endpoint, credentials: s3emu.env.TEST_S3_CREDENTIALS }],
      ['gcs', { ...base, provider: 'gcp', bucket: gcsemu.env.TEST_GCS_BUCKET, endpoint: gcsemu.endpoint, credentials: gcsemu.env.TEST_GCS_CREDENTIALS }],
    ];
    const inputMiB = fs.statSync(mkv).size / MiB;

    type Row = { runsMs: number[]; medianMs: number; cpuMs: number; processingMs: number; uploadMs: number; videoMiB: number };
    const processing: Record<string, Record<string, Row>> = {};
    for (const [inputName, input] of inputs) {
      processing[inputName] = {};
      for (const [name, cfg] of targets) {
        const storage: Storage = createStorage(cfg);
        const p = new PostProcessor({ storage, prefix: cfg.prefix, workDir: path.join(tmp, 'work') });
        const runs: Array<{ total: number; cpu: number; proc: number; up: number; size: number }> = [];
        for (let i = 0; i < RUNS; i++) {
          const t0 = performance.now();
          const c0 = cpuMs();
          const r = await p.process({ recordingId: `r${i}`, callId: `bench-${name}`, inputPath: input, format: 'mp4' });
          runs.push({ total: Math.round(performance.now() - t0), cpu: cpuMs() - c0, proc: r.timings.processingMs, up: r.timings.uploadMs, size: r.video.size });
          await storage.deletePrefix(`bench/bench-${name}/r${i}/`);
        }
        const mid = runs.find((r) => r.total === median(runs.map((x) => x.total)))!;
        processing[inputName][name] = {
          runsMs: runs.map((r) => r.total), medianMs: mid.total, cpuMs: mid.cpu, processingMs: mid.proc, uploadMs: mid.up, videoMiB: Math.round((mid.size / MiB) * 10) / 10,
        };
        await storage.close();
      }
    }

    process.stderr.write(`writing ${SMALL_MIB} MiB and ${LARGE_MIB} MiB files...\n`);
    const small = path.join(tmp, 'small.bin');
    const large = path.join(tmp, 'large.bin');
    await writeRandomFile(small, SMALL_MIB);
    await writeRandomFile(large, LARGE_MIB);
    const memory: Record<string, Record<string, { rssBeforeMiB: number; rssPeakMiB: number; growthMiB: number; ms: number; MiBps: number }>> = {};
    for (const [name, cfg] of targets) {
      const storage = createStorage(cfg);
      memory[name] = {};
      for (const [label, file, mib] of [[`${SMALL_MIB}MiB`, small, SMALL_MIB], [`${LARGE_MIB}MiB`, large, LARGE_MIB]] as const) {
        const m = await peakRss(() => storage.put(`bench/mem/${label}.bin`, file, 'application/octet-stream'));
        memory[name][label] = { rssBeforeMiB: m.before, rssPeakMiB: m.peak, growthMiB: m.peak - m.before, ms: m.ms, MiBps: Math.round((mib / (m.ms / 1000)) * 10) / 10 };
        await storage.delete(`bench/mem/${label}.bin`);
      }
      await storage.close();
    }

    const lines: string[] = [];
    lines.push(`input: ${SECONDS} s 1280x720 30 fps, the recorder's MP4 (H.264 + AAC) or H.264 + Opus (MKV), ${inputMiB.toFixed(1)} MiB -> MP4, 5 thumbnails + poster; ${os.cpus().length} CPUs`);
    lines.push('');
    lines.push('| input | target | stop-to-complete median (runs) | CPU | processing | upload | video |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const [inputName, rows] of Object.entries(processing)) {
      for (const [name, r] of Object.entries(rows)) {
        lines.push(`| ${inputName} | ${name} | ${r.medianMs} ms (${r.runsMs.join(', ')}) | ${r.cpuMs} ms | ${r.processingMs} ms | ${r.uploadMs} ms | ${r.videoMiB} MiB |`);
      }
    }
    lines.push('');
    lines.push('| target | file | RSS before | RSS peak | growth | time | throughput |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const [name, sizes] of Object.entries(memory)) {
      for (const [label, m] of Object.entries(sizes)) {
        lines.push(`| ${name} | ${label} | ${m.rssBeforeMiB} MiB | ${m.rssPeakMiB} MiB | ${m.growthMiB} MiB | ${m.ms} ms | ${m.MiBps} MiB/s |`);
      }
    }
    console.log(lines.join('\n'));
    console.log(JSON.stringify({ input: { seconds: SECONDS, width: 1280, height: 720, MiB: Math.round(inputMiB * 10) / 10 }, runs: RUNS, processing, memory }));
  } finally {
    await Promise.allSettled(started.map((s) => s.stop()));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
