import type http from 'node:http';
import { metricsAllowed } from '../api/auth';
import type { Config } from '../config';
import { runChecks, type HealthCheck } from '../observability/health';
import type { Metrics } from '../observability/metrics';
import { listenOn } from './http';

/**
 * A worker's status listener (WORKER_STATUS_PORT), for Kubernetes' probes and Prometheus; a
 * worker builds no HTTP app, so this is a plain request handler with three paths:
 *   GET /healthz  liveness: the process answers
 *   GET /readyz   readiness: what it depends on (database, Redis, its warm browser) and its
 *                 capacity: it would admit one more recording now, by the runner's own rule
 *                 (recordings/capacity.ts); a full worker, or one shutting down, is not ready
 *   GET /metrics  the worker's metrics (Bearer METRICS_TOKEN when set), recorder_load_ratio
 *                 among them
 */
export interface WorkerStatusDeps {
  /** The core's readiness checks. */
  readiness: Record<string, HealthCheck>;
  /** Whether the worker would admit one more recording now (RecordingRunner.hasRoomForAnother). */
  hasRoom: () => boolean;
  metrics: Metrics;
  metricsToken?: string;
}

export interface WorkerStatus {
  url: string;
  /** From now on /readyz says not ready (shutdown began); /healthz and /metrics still answer. */
  markStopping(): void;
  close(): Promise<void>;
}

export async function startWorkerStatus(config: Config, deps: WorkerStatusDeps): Promise<WorkerStatus | undefined> {
  const port = config.worker.statusPort;
  if (port === undefined) return undefined;
  let stopping = false;
  const checks: Record<string, HealthCheck> = {
    ...deps.readiness,
    capacity: () => {
      if (stopping) throw new Error('shutting down: takes no more recordings');
      if (!deps.hasRoom()) throw new Error('full: it would not admit another recording now');
    },
  };
  const handler: http.RequestListener = (req, res) => {
    void respond(req, deps, checks)
      .then(({ status, type, body, headers }) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
        res.end(body);
      })
      .catch(() => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'status check failed' }));
      });
  };
  const { server, url } = await listenOn(handler, { host: config.worker.statusHost, port, settings: { host: 'WORKER_STATUS_HOST', port: 'WORKER_STATUS_PORT' } });
  let closed: Promise<void> | undefined;
  return {
    url,
    markStopping() {
      stopping = true;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const json = (status: number, value: unknown): Reply => ({ status, type: 'application/json; charset=utf-8', body: JSON.stringify(value) });

async function respond(req: http.IncomingMessage, deps: WorkerStatusDeps, checks: Record<string, HealthCheck>): Promise<Reply> {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'only GET' });
  if (path === '/healthz') return json(200, { status: 'ok' });
  if (path === '/readyz') {
    const result = await runChecks(checks);
    return json(result.ready ? 200 : 503, result);
  }
  if (path === '/metrics') {
    if (!metricsAllowed(req.headers.authorization, deps.metricsToken)) {
      return { ...json(401, { error: 'metrics need Authorization: Bearer <METRICS_TOKEN>' }), headers: { 'www-authenticate': 'Bearer' } };
    }
    const { contentType, body } = await deps.metrics.render();
    return { status: 200, type: contentType, body };
  }
  return json(404, { error: 'not found: /healthz, /readyz, /metrics' });
}
