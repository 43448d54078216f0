/**
 * `npm run bench`: the recorder's figures at 1280x720 30 fps with 3 synthetic publishers,
 * medians over RUNS runs, printed as a table and as JSON. Measures only the recorder's
 * processes (its Chromium tree, its FFmpeg, this Node process), not the publishers.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config';
import { findFreeDevServerPort, startDevServer } from '../src/demo/dev-server';
import { SyntheticPublishers } from '../src/demo/synthetic-publishers';
import { processTree } from '../src/observability/process-tree';
import { cpuSeconds, median, pssMb, sleep } from './bench-lib';
import { printDensity, summarize, type DensityRun } from './bench-density';
import { printBeside, type BesideRun } from './bench-beside';
import { measureService } from './bench-api';
import { probe } from '../src/recorder/probe';
import { bundledPageDir } from '../src/recorder/static-files';
import { Recorder, type RecorderSettings } from '../src/recorder/recorder';
import type { LivekitCredentials } from '../src/livekit/tokens';
import type { RecordingRequest } from '../src/recordings/contract';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
// which parts to run: cost (CPU, memory, fps, warm start, stop), custom (the same of a custom
// layout page), cold, av, density (N recordings at once through the REST API), beside (a
// fourth start while three run)
const PARTS = new Set((process.env.BENCH_PARTS ?? 'cost,custom,cold,av,density,beside').split(','));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const DENSITY_MAX = Number(process.env.BENCH_DENSITY_MAX ?? 6);
const DENSITY_MIN = Number(process.env.BENCH_DENSITY_MIN ?? 1);
const DENSITY_FORMAT = (['mp4', 'webm', 'mkv'] as const).find((f) => f === process.env.BENCH_DENSITY_FORMAT) ?? 'mp4';
const PUBLISHERS = process.env.BENCH_PUBLISHERS === 'file' ? 'file' : 'chromium';

function request(id: string, room: string, out: string, format: 'mp4' | 'mkv' = 'mp4', customLayoutUrl?: string): RecordingRequest {
  return { id, roomName: room, outputPath: out, options: { width: 1280, height: 720, fps: 30, format, layout: 'grid', ...(customLayoutUrl ? { customLayoutUrl } : {}) } };
}

interface RunFigures {
  cpuPerSecond: number;
  peakPssMb: number;
  fps: number;
  startMs: number;
  stopMs: number;
  durationErrorMs: number;
  seconds: number;
}

/** One recording of SECONDS: the recorder's CPU (its browser tree, its FFmpeg, this process) and memory. */
async function measureRun(recorder: Recorder, req: RecordingRequest): Promise<RunFigures> {
  const browserPid = recorder.pool.pids()[0];
  const cpu0 = cpuSeconds(processTree(browserPid));
  const self0 = process.cpuUsage();
  const t0 = Date.now();
  const live = await recorder.start(req);
  const startMs = Date.now() - t0;
  let peak = 0;
  const ffmpegPid = live.ffmpegPid();
  const sampler = setInterval(() => {
    peak = Math.max(peak, pssMb([...processTree(browserPid), ...(ffmpegPid ? [ffmpegPid] : [])]));
  }, 500);
  await sleep(SECONDS * 1000);
  const ffCpu = ffmpegPid ? cpuSeconds([ffmpegPid]) : 0;
  const ts = Date.now();
  const result = await live.stop();
  const stopMs = Date.now() - ts;
  clearInterval(sampler);
  const self = process.cpuUsage(self0);
  const browserCpu = cpuSeconds(processTree(browserPid)) - cpu0;
  const info = await probe('ffprobe', result.path, { countFrames: true });
  const seconds = info.durationMs / 1000;
  return {
    cpuPerSecond: (browserCpu + ffCpu + (self.user + self.system) / 1e6) / seconds,
    peakPssMb: peak,
    fps: info.streams.find((s) => s.type === 'video')?.fps ?? 0,
    startMs,
    stopMs,
    durationErrorMs: info.durationMs - (result.endedAt.getTime() - result.startedAt.getTime()),
    seconds,
  };
}

/** The example custom layout page, served from an origin of its own as an operator would. */
async function serveExampleLayout(): Promise<{ url: string; close: () => Promise<void> }> {
  const dir = path.join(bundledPageDir(), 'examples');
  const server = http.createServer((req, res) => {
    const name = path.basename(new URL(req.url ?? '/', 'http://x').pathname);
    if (!['custom-layout.html', 'custom-layout.js'].includes(name)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': name.endsWith('.js') ? 'text/javascript' : 'text/html' });
    fs.createReadStream(path.join(dir, name)).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/custom-layout.html`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** White-frame onsets (video) and beep onsets (audio) in seconds; their pairing gives the A/V offset. */
async function avOffsetMs(file: string): Promise<{ offsets: number[] }> {
  const { stdout: v } = await run('ffmpeg', ['-v', 'error', '-i', file, '-vf', 'scale=16:9,format=gray', '-f', 'rawvideo', '-vsync', 'passthrough', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 28 });
  const { stdout: pts } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', file]);
  const times = pts.trim().split('\n').map(Number);
  const flashes: number[] = [];
  let wasWhite = false;
  for (let i = 0; i < times.length; i++) {
    const frame = v.subarray(i * 144, (i + 1) * 144);
    const mean = frame.reduce((a, b) => a + b, 0) / 144;
    const white = mean > 60;
    if (white && !wasWhite) flashes.push(times[i]);
    wasWhite = white;
  }
  const { stdout: a } = await run('ffmpeg', ['-v', 'error', '-i', file, '-vn', '-ac', '1', '-ar', '48000', '-f', 'f32le', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 28 });
  const samples = new Float32Array(a.buffer, a.byteOffset, Math.floor(a.length / 4));
  // decoded PCM starts at the audio stream's first timestamp, not at zero
  const { stdout: audioStart } = await run('ffprobe', ['-v', 'error', '-select_streams', 'a', '-show_entries', 'stream=start_time', '-of', 'csv=p=0', file]);
  const t0 = Number(audioStart.trim()) || 0;
  const beeps: number[] = [];
  let loud = false;
  let quietSince = 0;
  for (let i = 0; i < samples.length; i++) {
    const x = Math.abs(samples[i]);
    if (!loud && x > 0.1) {
      beeps.push(t0 + i / 48000);
      loud = true;
      quietSince = i;
    } else if (loud) {
      if (x > 0.05) quietSince = i;
      else if (i - quietSince > 4800) loud = false;
    }
  }
  const offsets = flashes
    .map((f) => beeps.reduce((best, b) => (Math.abs(b - f) < Math.abs(best - f) ? b : best), Infinity) - f)
    .filter((d) => Math.abs(d) < 0.4)
    .map((d) => Math.round(d * 1000));
  return { offsets };
}

async function main(): Promise<void> {
  const server = await startDevServer({ port: await findFreeDevServerPort(7960) });
  const livekit = { url: server.url, apiKey: server.apiKey, apiSecret: server.apiSecret };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  // the service's own settings (CHROMIUM_PATH etc. apply); BENCH_AV_OFFSET_MS=0 measures the raw A/V offset
  const config = loadConfig();
  const settings: RecorderSettings = {
    ...config.recorder,
    warmBrowsers: 1,
    spoolDir: path.join(dir, 'spool'),
    avOffsetMs: Number(process.env.BENCH_AV_OFFSET_MS ?? config.recorder.avOffsetMs),
  };
  const publishers = await SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit });
  const rows: Record<string, number[]> = { cpuPerSecond: [], peakPssMb: [], fps: [], warmStartMs: [], coldStartMs: [], stopMs: [], durationErrorMs: [], x264CpuPerSecond: [], ratioToX264: [], customCpuPerSecond: [], customPeakPssMb: [], customFps: [], customStartMs: [] };
  let avOffsets: number[] = [];
  let density: DensityRun[] = [];
  let beside: BesideRun[] = [];
  try {
    for (const [i, c] of ['#ff0000', '#00ff00', '#0000ff'].entries()) await publishers.add({ room: 'bench', identity: `p${i}`, colour: c, tone: 500 + 300 * i });
    await sleep(3000);
    const recorder = await Recorder.create(settings, livekit);
    try {
      for (let r = 0; r < (PARTS.has('cost') ? RUNS : 0); r++) {
        const out = path.join(dir, `run${r}.mp4`);
        const f = await measureRun(recorder, request(`run${r}`, 'bench', out));
        const seconds = f.seconds;
        rows.warmStartMs.push(f.startMs);
        rows.stopMs.push(f.stopMs);
        rows.cpuPerSecond.push(f.cpuPerSecond);
        rows.peakPssMb.push(f.peakPssMb);
        rows.fps.push(f.fps);
        rows.durationErrorMs.push(f.durationErrorMs);
        // the baseline: ffmpeg's own libx264 veryfast encode of the same recording
        const { stdout } = await run('bash', ['-c', `ffmpeg -v error -i "${out}" -an -c:v libx264 -preset veryfast -f null - && times`]);
        const [, children] = stdout.trim().split('\n');
        const [u, s] = children.split(/\s+/).map((t) => {
          const m = /(\d+)m([\d.]+)s/.exec(t)!;
          return Number(m[1]) * 60 + Number(m[2]);
        });
        rows.x264CpuPerSecond.push((u + s) / seconds);
        rows.ratioToX264.push(rows.cpuPerSecond[r] / rows.x264CpuPerSecond[r]);
        process.stderr.write(`run ${r + 1}/${RUNS} done\n`);
        await sleep(1000);
      }
      // the same room through the example custom layout page (tab capture, redrawn at a fixed rate)
      if (PARTS.has('custom')) {
        const layout = await serveExampleLayout();
        try {
          for (let r = 0; r < RUNS; r++) {
            const f = await measureRun(recorder, request(`custom${r}`, 'bench', path.join(dir, `custom${r}.mp4`), 'mp4', layout.url));
            rows.customCpuPerSecond.push(f.cpuPerSecond);
            rows.customPeakPssMb.push(f.peakPssMb);
            rows.customFps.push(f.fps);
            rows.customStartMs.push(f.startMs);
            process.stderr.write(`custom layout run ${r + 1}/${RUNS} done\n`);
            await sleep(1000);
          }
        } finally {
          await layout.close();
        }
      }
    } finally {
      await recorder.close();
    }
    // cold start: no warm browser, no standby page
    for (let r = 0; r < (PARTS.has('cold') ? RUNS : 0); r++) {
      const t0 = Date.now();
      const cold = await Recorder.create({ ...settings, warmBrowsers: 0 }, livekit);
      const live = await cold.start(request(`cold${r}`, 'bench', path.join(dir, `cold${r}.mp4`)));
      rows.coldStartMs.push(Date.now() - t0);
      await live.stop();
      await cold.close();
    }
    // A/V offset: one publisher that flashes white and beeps at the same instant
    if (PARTS.has('av')) avOffsets = await measureAvOffset(publishers, settings, livekit, dir);
    if (PARTS.has('density') || PARTS.has('beside')) {
      const parts = { density: PARTS.has('density'), beside: PARTS.has('beside'), runs: RUNS, seconds: SECONDS, densityMin: DENSITY_MIN, densityMax: DENSITY_MAX, format: DENSITY_FORMAT, publishers: PUBLISHERS } as const;
      ({ density, beside } = await measureService(publishers, server, dir, parts));
    }
  } finally {
    await publishers.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  printSummary(rows, avOffsets);
  if (density.length) {
    const table = summarize(density);
    printDensity(table, RUNS);
    process.stdout.write(`\n${JSON.stringify({ density: table, densityRuns: density })}\n`);
  }
  if (beside.length) process.stdout.write(`\n${JSON.stringify({ beside: printBeside(beside), besideRuns: beside })}\n`);
}

async function measureAvOffset(publishers: SyntheticPublishers, settings: RecorderSettings, livekit: LivekitCredentials, dir: string): Promise<number[]> {
  {
    const flasher = await publishers.add({ room: 'avsync', identity: 'flash', colour: '#000000', tone: 1000, flash: true });
    await sleep(2000);
    const recorder2 = await Recorder.create(settings, livekit);
    const live = await recorder2.start(request('av', 'avsync', path.join(dir, 'av.mkv'), 'mkv'));
    await sleep(9000);
    const av = await live.stop();
    await recorder2.close();
    await flasher.leave();
    return (await avOffsetMs(av.path)).offsets;
  }
}

function printSummary(rows: Record<string, number[]>, avOffsets: number[]): void {
  const med = (xs: number[]) => (xs.length ? median(xs) : NaN);

  const summary = {
    runs: RUNS,
    secondsPerRun: SECONDS,
    resolution: '1280x720@30',
    publishers: 3,
    cpuSecondsPerRecordedSecond: med(rows.cpuPerSecond),
    x264VeryfastCpuSecondsPerSecond: med(rows.x264CpuPerSecond),
    ratioToX264Veryfast: med(rows.ratioToX264),
    peakMemoryMb: med(rows.peakPssMb),
    fps: med(rows.fps),
    warmStartMs: med(rows.warmStartMs),
    coldStartMs: med(rows.coldStartMs),
    stopMs: med(rows.stopMs),
    durationErrorMs: med(rows.durationErrorMs),
    customLayout: {
      cpuSecondsPerRecordedSecond: med(rows.customCpuPerSecond),
      ratioToCanvas: med(rows.customCpuPerSecond) / med(rows.cpuPerSecond),
      peakMemoryMb: med(rows.customPeakPssMb),
      fps: med(rows.customFps),
      startMs: med(rows.customStartMs),
    },
    avOffsetMs: avOffsets.length ? median(avOffsets) : null,
    avOffsetSamples: avOffsets,
    // the first pulse of the file: is it in sync from the start?
    avOffsetFirstMs: avOffsets.length ? avOffsets[0] : null,
    perRun: rows,
  };
  const table: Array<[string, string, string]> = [
    ['recorder CPU-s per recorded s', summary.cpuSecondsPerRecordedSecond.toFixed(3), '< 0.5'],
    ['ffmpeg libx264 veryfast CPU-s/s', summary.x264VeryfastCpuSecondsPerSecond.toFixed(3), 'baseline'],
    ['ratio recorder / x264 veryfast', summary.ratioToX264Veryfast.toFixed(2), ''],
    ['peak memory (PSS, MB)', summary.peakMemoryMb.toFixed(0), ''],
    ['achieved fps (from the file)', summary.fps.toFixed(2), '>= 29.5'],
    ['start latency, warm (ms)', String(summary.warmStartMs), '< 1000'],
    ['start latency, cold (ms)', String(summary.coldStartMs), ''],
    ['stop latency (ms)', String(summary.stopMs), '< 1000'],
    ['file duration - wall time (ms)', String(summary.durationErrorMs), '|x| < 500'],
    ['custom layout page: CPU-s per recorded s', summary.customLayout.cpuSecondsPerRecordedSecond.toFixed(3), ''],
    ['custom layout / canvas CPU ratio', summary.customLayout.ratioToCanvas.toFixed(2), ''],
    ['custom layout: peak memory (PSS, MB)', summary.customLayout.peakMemoryMb.toFixed(0), ''],
    ['custom layout: fps (from the file)', summary.customLayout.fps.toFixed(2), ''],
    ['custom layout: start latency (ms)', String(summary.customLayout.startMs), ''],
    ['A/V offset, audio after video (ms)', summary.avOffsetMs === null ? 'n/a' : String(summary.avOffsetMs), '|x| <= 45'],
    ['A/V offset of the first pulse (ms)', summary.avOffsetFirstMs === null ? 'n/a' : String(summary.avOffsetFirstMs), '|x| <= 45'],
  ];
  process.stdout.write(`\nmedians of ${RUNS} runs, ${SECONDS} s each\n`);
  for (const [k, v, t] of table) process.stdout.write(`${k.padEnd(38)} ${v.padStart(10)}   ${t}\n`);
  process.stdout.write(`\n${JSON.stringify(summary)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
