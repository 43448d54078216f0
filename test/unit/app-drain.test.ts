import { PostprocessDrain } from '../../src/app/drain';
import { createLogger } from '../../src/observability/logger';
import { RecordingEventBus } from '../../src/recordings/events';
import type { RecordingRepository } from '../../src/recordings/repository';

/** A drain over one recording of this process whose row says `status`. */
function drainOf(status: () => string, runsHere: () => boolean) {
  const bus = new RecordingEventBus(() => undefined);
  const repo = { getRecording: async () => ({ status: status() }) } as unknown as RecordingRepository;
  const drain = new PostprocessDrain(bus, () => true, repo, runsHere, createLogger('silent'));
  bus.emit('recordingStarted', { recordingId: 'r1', callId: 'c1', roomName: 'room', status: 'RECORDING', at: new Date().toISOString(), startedAt: new Date().toISOString() });
  return { bus, drain };
}

async function timed(p: Promise<void>): Promise<number> {
  const t0 = Date.now();
  await p;
  return Date.now() - t0;
}

it('waits for an attempt running here until the recording ends', async () => {
  let status = 'UPLOADING';
  const { drain } = drainOf(() => status, () => status !== 'COMPLETED');
  setTimeout(() => (status = 'COMPLETED'), 300);
  const ms = await timed(drain.wait(10_000));
  expect(ms).toBeGreaterThanOrEqual(1900); // seen at the next look (every 2 s)
  expect(ms).toBeLessThan(3000);
});

it('gives up at the grace when the attempt keeps running', async () => {
  const { drain } = drainOf(() => 'PROCESSING', () => true);
  const ms = await timed(drain.wait(2500));
  expect(ms).toBeGreaterThanOrEqual(2400);
});

it('does not wait for post-processing that waits for a retry (no attempt runs here)', async () => {
  const { drain } = drainOf(() => 'PROCESSING', () => false);
  // two looks in a row: at once, then at the next poll
  expect(await timed(drain.wait(60_000))).toBeLessThan(3000);
});

it('is done at once when the recording already ended', async () => {
  const { drain, bus } = drainOf(() => 'PROCESSING', () => true);
  bus.emit('recordingCompleted', { recordingId: 'r1', callId: 'c1', roomName: 'room', status: 'COMPLETED', at: new Date().toISOString(), url: null, durationMs: null, fileSize: null });
  expect(await timed(drain.wait(60_000))).toBeLessThan(100);
});
