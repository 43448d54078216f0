import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAll, type RunningService } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { apiRequest, type ApiReply } from './api-request';
import { userToken } from './recorder-process';
import { createTestDatabase } from './services/postgres';

/** The test livekit-server started by the global setup, as the service's settings and as credentials. */
export const TEST_LIVEKIT_ENV = {
  LIVEKIT_URL: process.env.TEST_LIVEKIT_URL!,
  LIVEKIT_API_KEY: process.env.TEST_LIVEKIT_API_KEY!,
  LIVEKIT_API_SECRET: process.env.TEST_LIVEKIT_API_SECRET!,
};
export const testLivekit = { url: TEST_LIVEKIT_ENV.LIVEKIT_URL, apiKey: TEST_LIVEKIT_ENV.LIVEKIT_API_KEY, apiSecret: TEST_LIVEKIT_ENV.LIVEKIT_API_SECRET };

export interface TestService {
  running: RunningService;
  /** http://host:port of its API. */
  base: string;
  /** RECORDING_OUTPUT_DIR (local storage, the spool below it in .spool). */
  dir: string;
  /** A call to its API as the host ('host-1'). */
  api(method: string, urlPath: string, body?: unknown): Promise<ApiReply>;
  /** A request with the host's authorization, its answer as it came (downloads). */
  fetchAsHost(urlPath: string): Promise<Response>;
  /** The service's last log lines (info and above), for a test to print when it fails; empty with E2E_LOG_LEVEL set (the log is on stdout then). */
  recentLog(): string[];
  close(): Promise<void>;
}

/** Lines kept of a service's log. */
const RECENT_LOG_LINES = 40;

/**
 * `recorder all` in this process, as a user runs it, with the real recorder against the test
 * livekit-server, a PostgreSQL database of its own (`tag`) and a temporary output directory;
 * `env` adds or overrides settings.
 */
export async function startTestService(tag: string, env: Record<string, string> = {}): Promise<TestService> {
  const secret = `${tag}-e2e-secret-0123456789abcdef`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `e2e-${tag}-`));
  const db = await createTestDatabase(tag);
  const config = loadConfig({
    ...TEST_LIVEKIT_ENV,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    AUTH_JWT_SECRET: secret,
    RECORDING_OUTPUT_DIR: dir,
    LIVEKIT_WEBHOOK_ENABLED: 'false',
    ...env,
  });
  const recent: string[] = [];
  // a test's polling would fill it with its GETs
  const polled = /"method":"GET".*"msg":"request"/;
  const keep = { write: (line: string) => void (!polled.test(line) && recent.push(line.trimEnd()) > RECENT_LOG_LINES && recent.shift()) };
  const running = await startAll(config, process.env.E2E_LOG_LEVEL ? createLogger(process.env.E2E_LOG_LEVEL) : createLogger('info', keep));
  const base = running.url!;
  const token = userToken(secret, 'host-1');
  return {
    running,
    base,
    dir,
    api: (method, urlPath, body) => apiRequest(base, token, method, urlPath, body),
    fetchAsHost: (urlPath) => fetch(base + urlPath, { headers: { authorization: `Bearer ${token}` } }),
    recentLog: () => [...recent],
    async close() {
      await running.shutdown();
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
