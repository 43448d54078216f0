/** The parts of `npm run bench` that drive the service as a user runs it: `recorder all` over its REST API. */
import net from 'node:net';
import path from 'node:path';
import { FilePublishers } from '../src/demo/file-publishers';
import type { SyntheticPublishers } from '../src/demo/synthetic-publishers';
import { sleep } from './bench-lib';
import { besideRun, type BesideRun } from './bench-beside';
import { densityRun, type DensityRun, type PublisherHost } from './bench-density';
import { BenchService } from './bench-service';

/**
 * Against `recorder all` in a process of its own: N = 1..DENSITY_MAX recordings at once, RUNS
 * times each (density), and RUNS runs of a fourth start beside three running (beside).
 */
export async function measureService(
  publishers: SyntheticPublishers,
  server: { pid: number; url: string; apiKey: string; apiSecret: string },
  dir: string,
  parts: { density: boolean; beside: boolean; runs: number; seconds: number; densityMin: number; densityMax: number; format: 'mp4' | 'webm' | 'mkv'; publishers: 'chromium' | 'file' },
): Promise<{ density: DensityRun[]; beside: BesideRun[] }> {
  const RUNS = parts.runs;
  const livekit = { url: server.url, apiKey: server.apiKey, apiSecret: server.apiSecret };
  const service = await BenchService.start(path.join(dir, 'density'), livekit, await freePort());
  // 640x360 at 30 fps, one colour and one tone each: Chromium pages (0.15-0.25 of a core
  // each), or BENCH_PUBLISHERS=file for pre-encoded files (almost nothing), so the machine
  // is left to the recorder
  const files = parts.publishers === 'file' ? await FilePublishers.launch({ livekit }) : undefined;
  const host: PublisherHost = files ?? {
    add: (spec) => publishers.add({ ...spec, width: 640, height: 360, fps: 30 }),
    pids: () => [publishers.pid()].filter((p): p is number => p !== undefined),
  };
  const out: DensityRun[] = [];
  const beside: BesideRun[] = [];
  try {
    for (let n = parts.densityMin; n <= (parts.density ? parts.densityMax : 0); n++) {
      for (let r = 0; r < RUNS; r++) {
        const result = await densityRun({ service, publishers: host, livekitPid: server.pid, dir, seconds: Math.max(parts.seconds, 15), tag: `d${r}`, format: parts.format }, n);
        out.push(result);
        process.stderr.write(`density N=${n} run ${r + 1}/${RUNS}: admitted ${result.admitted}, fps ${result.fps.map((f) => f.toFixed(1)).join('/')}, visible ${result.latencyMs.map((x) => Math.round(x)).join('/')} ms, CPU/rec ${result.cpuPerRecording.toFixed(3)}${result.failures.length ? `, failures: ${result.failures.join('; ')}` : ''}${result.refusals.length ? `, refused: ${result.refusals[0]}` : ''}\n`);
        await sleep(3000);
      }
    }
    for (let r = 0; r < (parts.beside ? RUNS : 0); r++) {
      const result = await besideRun({ service, publishers: host, dir, tag: `s${r}` });
      beside.push(result);
      process.stderr.write(`beside run ${r + 1}/${RUNS}: visible ${result.latencyMs.map((x) => Math.round(x)).join('/')} ms, refused ${result.refused}, fps fourth ${result.fourthFps.map((f) => f.toFixed(1)).join('/')}, running ${result.runningFps.map((f) => f.toFixed(1)).join('/')}${result.failures.length ? `, failures: ${result.failures.join('; ')}` : ''}\n`);
      await sleep(3000);
    }
  } finally {
    await service.stop();
    await files?.close();
  }
  return { density: out, beside };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

