/**
 * Test helper process (not a test): the service on embedded PGlite (PGLITE_DIR) with the
 * ffmpeg recorder double, on 127.0.0.1. PGlite's WASM build loads through dynamic import(),
 * which Jest's CommonJS sandbox cannot do, so api-pglite.test.ts runs it here, under tsx.
 * Prints one JSON line {"url": ...} when ready; SIGTERM closes everything (PGlite included).
 * Env: POSTPROCESS=hang (post-processing never finishes), LEASE_MS (post-processing lease).
 */
import express from 'express';
import { createService } from '../../src/app/http';
import { FfmpegTestRecorder, listen, testConfig } from './recordings-harness';

async function main(): Promise<void> {
  const config = testConfig({ PGLITE_DIR: process.argv[2], DATABASE_URL: undefined, RECORDING_OUTPUT_DIR: process.argv[3] });
  // POSTPROCESS=hang: a post-processor that never finishes, so a test can kill the process mid-job
  const hang = process.env.POSTPROCESS === 'hang';
  const svc = await createService(config, {
    recorder: new FfmpegTestRecorder(),
    presence: false,
    workerId: `pglite-${process.pid}`,
    ...(hang ? { postprocess: { enqueue: () => new Promise<void>(() => undefined) } } : {}),
    tuning: { postprocess: { leaseMs: Number(process.env.LEASE_MS ?? 60_000), pollMs: 200 } },
  });
  const report = await svc.start();
  const outer = express();
  outer.get('/__test/recordings', async (_req, res) => {
    const rows = await svc.db.prisma.callRecording.findMany({ orderBy: { id: 'asc' } });
    res.json(rows.map((r) => ({ ...r, fileSize: r.fileSize === null ? null : Number(r.fileSize) })));
  });
  outer.use(svc.app);
  const http = await listen(outer);
  process.stdout.write(`${JSON.stringify({ url: http.url, kind: svc.db.kind, recovery: report })}\n`);
  process.once('SIGTERM', () => {
    void (async () => {
      await http.close();
      await svc.close();
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
