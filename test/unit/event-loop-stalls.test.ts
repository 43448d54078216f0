import { EventLoopStalls } from '../../src/observability/event-loop-stalls';
import { Metrics } from '../../src/observability/metrics';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('the event loop delay', () => {
  let monitor: EventLoopStalls | undefined;
  afterEach(() => monitor?.stop());

  it('shows a 200 ms block in /metrics (nodejs_eventloop_lag_max_seconds), and each scrape starts a new window', async () => {
    const metrics = new Metrics();
    const max = async () => Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec((await metrics.render()).body)?.[1]);
    await max();
    // the histogram samples every 10 ms: give it a first sample before the block
    await sleep(20);
    block(200);
    await sleep(20);
    const blocked = await max();
    expect(blocked).toBeGreaterThan(0.15);
    expect(blocked).toBeLessThan(1);
    await sleep(50);
    expect(await max()).toBeLessThan(0.15);
  });

  it('reports a stall longer than the threshold once, with its length, and the next one only after the quiet period', async () => {
    const stalls: number[] = [];
    monitor = new EventLoopStalls({ stallMs: 100, reportEveryMs: 400, onStall: (ms) => stalls.push(ms) }).start();
    await sleep(20);
    block(200);
    await sleep(80);
    expect(stalls).toHaveLength(1);
    // within the stall timer's period (50 ms) of the block
    expect(stalls[0]).toBeGreaterThan(140);
    expect(stalls[0]).toBeLessThan(400);

    // within the quiet period: not reported
    block(200);
    await sleep(80);
    expect(stalls).toHaveLength(1);

    await sleep(400);
    block(200);
    await sleep(80);
    expect(stalls).toHaveLength(2);

    // shorter than the threshold: never reported
    await sleep(400);
    block(40);
    await sleep(80);
    expect(stalls).toHaveLength(2);
  });
});
