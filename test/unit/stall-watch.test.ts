import { createLogger } from '../../src/observability/logger';
import { StallWatch } from '../../src/recorder/stall-watch';

/** The watchdog's question to a silent page (the page itself: test/e2e/stalled-page.test.ts). */
function watch(answers: Array<unknown | 'never'>, lastChunkAt = () => 0) {
  const stalled: number[] = [];
  const w = new StallWatch({
    stallMs: 50,
    log: createLogger('silent'),
    lastChunkAt,
    askPhase: () => {
      const a = answers.shift();
      return a === 'never' ? new Promise(() => undefined) : Promise.resolve(a);
    },
    onStalled: (ms) => stalled.push(ms),
  });
  return { w, stalled };
}

test('a page that answers it is recording is waited for, twice in a row at most, and counted from its answer', async () => {
  const { w, stalled } = watch(['recording', 'recording', 'recording']);
  const before = Date.now();
  await w.silent();
  expect(stalled).toEqual([]);
  expect(w.lastSignOfLife()).toBeGreaterThanOrEqual(before);
  await w.silent();
  expect(stalled).toEqual([]);
  await w.silent();
  expect(stalled).toHaveLength(1);
});

test('a chunk after an answer gives the page its two waits again', async () => {
  let last = 0;
  const { w, stalled } = watch(['recording', 'recording', 'recording'], () => last);
  await w.silent();
  await w.silent();
  last = Date.now() + 1;
  await w.silent();
  expect(stalled).toEqual([]);
});

test('a page that does not answer within the wait, or is no longer recording, is stalled', async () => {
  const silent = watch(['never']);
  await silent.w.silent();
  expect(silent.stalled).toHaveLength(1);
  const stopping = watch(['stopping']);
  await stopping.w.silent();
  expect(stopping.stalled).toHaveLength(1);
});

test('the watchdog asks once at a time', async () => {
  const { w, stalled } = watch(['never', 'recording']);
  await Promise.all([w.silent(), w.silent()]);
  expect(stalled).toHaveLength(1);
});
