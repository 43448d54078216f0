import { loadConfig } from '../../src/config';
import { headroom } from '../../src/recordings/capacity';
import { loadRatio, Metrics } from '../../src/observability/metrics';

describe('recorder_load_ratio', () => {
  it('is the share of what the worker can take that is in use; 1 when nothing more fits', () => {
    expect(loadRatio(0, 1.7)).toBe(0);
    expect(loadRatio(0.6, 0.6)).toBe(0.5);
    expect(loadRatio(1.7, 0)).toBe(1);
    // an idle worker on a machine other programs fill: full
    expect(loadRatio(0, 0)).toBe(1);
  });

  it('follows capacity.ts: every slot busy is full, whatever the cores', () => {
    const limits = { maxConcurrent: 2, cpuBudget: 4, reserve: 0.3 };
    expect(loadRatio(0.6, headroom({ active: 2, committed: 0.6 }, limits))).toBe(1);
    expect(loadRatio(0.6, headroom({ active: 1, committed: 0.6 }, limits))).toBeCloseTo(0.6 / 4);
  });

  it('is exported with the worker\'s CPU figures', async () => {
    const metrics = new Metrics({ defaultMetrics: false }).setSources({ cpu: () => ({ budget: 1.7, committed: 0.5, headroom: 1.5 }) });
    expect((await metrics.render()).body).toMatch(/^recorder_load_ratio 0\.25$/m);
  });
});

describe('the worker status and shutdown settings', () => {
  it('opens no status listener unless WORKER_STATUS_PORT is set', () => {
    expect(loadConfig({}).worker).toEqual({ statusHost: '127.0.0.1', sessionNice: -8 });
    expect(loadConfig({ WORKER_STATUS_PORT: '9090', WORKER_STATUS_HOST: '0.0.0.0' }).worker).toEqual({ statusHost: '0.0.0.0', statusPort: 9090, sessionNice: -8 });
    expect(() => loadConfig({ WORKER_STATUS_PORT: 'x' })).toThrow(/WORKER_STATUS_PORT/);
  });

  it("weights a recording process's session at -8 unless told otherwise (0: left alone), within nice's range", () => {
    expect(loadConfig({ WORKER_SESSION_NICE: '0' }).worker.sessionNice).toBe(0);
    expect(() => loadConfig({ WORKER_SESSION_NICE: '-21' })).toThrow(/WORKER_SESSION_NICE/);
    expect(() => loadConfig({ WORKER_SESSION_NICE: 'high' })).toThrow(/WORKER_SESSION_NICE/);
  });

  it('waits 60 s for post-processing at shutdown unless told otherwise', () => {
    expect(loadConfig({}).shutdown.postprocessGraceMs).toBe(60_000);
    expect(loadConfig({ POSTPROCESS_SHUTDOWN_GRACE_SECONDS: '300' }).shutdown.postprocessGraceMs).toBe(300_000);
  });
});
