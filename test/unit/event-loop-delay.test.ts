import { EventLoopDelay } from '../../src/observability/event-loop-delay';
import { Metrics } from '../../src/observability/metrics';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('the event loop delay', () => {
  let monitor: EventLoopDelay | undefined;
  afterEach(() => monitor?.stop());

  it('shows a 200 ms block in recorder_event_loop_delay_seconds, then starts a new window', async () => {
    monitor = new EventLoopDelay().start();
    const metrics = new Metrics({ defaultMetrics: false }).setSources({ eventLoopDelay: () => monitor!.takeWindow() });
    // the histogram samples every 10 ms: give it a first sample before the block
    await sleep(20);
    block(200);
    await sleep(20);
    const body = (await metrics.render()).body;
    const stat = (name: string) => Number(new RegExp(`^recorder_event_loop_delay_seconds\\{stat="${name}"\\} (\\S+)$`, 'm').exec(body)?.[1]);
    expect(stat('max')).toBeGreaterThan(0.15);
    expect(stat('max')).toBeLessThan(1);
    expect(stat('p50')).toBeLessThan(stat('max'));
    expect(stat('p99')).toBeLessThanOrEqual(stat('max'));

    await sleep(50);
    expect(monitor.takeWindow().max).toBeLessThan(0.15);
  });

  it('reports a stall longer than the threshold once, with its length, and the next one only after the quiet period', async () => {
    const stalls: number[] = [];
    monitor = new EventLoopDelay({ stallMs: 100, reportEveryMs: 400, onStall: (ms) => stalls.push(ms) }).start();
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
