import { startWorkerStatus } from '../../src/app/worker-status';
import { loadConfig } from '../../src/config';
import { Metrics } from '../../src/observability/metrics';

/** The worker's status handler on a loopback port, with its parts stubbed (the real worker: test/integration/worker-status.test.ts). */
describe('startWorkerStatus', () => {
  const metrics = new Metrics({ defaultMetrics: false }).setSources({ cpu: () => ({ budget: 2, committed: 0, headroom: 2 }) });

  it('opens nothing without WORKER_STATUS_PORT', async () => {
    expect(await startWorkerStatus(loadConfig({}), { readiness: {}, hasRoom: () => true, metrics })).toBeUndefined();
  });

  it('says not ready when full, when a dependency fails and once shutdown began; alive all along', async () => {
    let room = true;
    let dbUp = true;
    const status = (await startWorkerStatus(loadConfig({ WORKER_STATUS_PORT: '0' }), {
      readiness: { database: () => { if (!dbUp) throw new Error('down'); } },
      hasRoom: () => room,
      metrics,
    }))!;
    try {
      const ready = async () => (await fetch(`${status.url}/readyz`)).status;
      expect(await ready()).toBe(200);
      room = false;
      expect(await ready()).toBe(503);
      room = true;
      dbUp = false;
      expect(await (await fetch(`${status.url}/readyz`)).json()).toMatchObject({ ready: false, checks: { database: { ok: false, error: 'down' }, capacity: { ok: true } } });
      dbUp = true;
      status.markStopping();
      expect(await ready()).toBe(503);
      expect((await fetch(`${status.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${status.url}/readyz`, { method: 'POST' })).status).toBe(405);
    } finally {
      await status.close();
    }
    await expect(fetch(`${status.url}/healthz`)).rejects.toThrow();
  });

  it('serves /metrics only with the token when METRICS_TOKEN is set', async () => {
    const token = 'a-metrics-token-of-some-length';
    const status = (await startWorkerStatus(loadConfig({ WORKER_STATUS_PORT: '0' }), { readiness: {}, hasRoom: () => true, metrics, metricsToken: token }))!;
    try {
      const open = await fetch(`${status.url}/metrics`);
      expect({ status: open.status, auth: open.headers.get('www-authenticate') }).toEqual({ status: 401, auth: 'Bearer' });
      const scraped = await fetch(`${status.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/^recorder_load_ratio 0$/m);
    } finally {
      await status.close();
    }
  });
});
