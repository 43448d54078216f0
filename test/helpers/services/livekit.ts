import { startDevServer } from '../../../src/livekit/dev-server';
import type { StartedService } from '../global-setup';

/** One livekit-server for the whole run, on its own ports so a running demo does not collide. */
export async function start(): Promise<StartedService> {
  const server = await startDevServer({ port: Number(process.env.TEST_LIVEKIT_PORT ?? 7890) });
  return {
    env: {
      TEST_LIVEKIT_URL: server.url,
      TEST_LIVEKIT_API_KEY: server.apiKey,
      TEST_LIVEKIT_API_SECRET: server.apiSecret,
    },
    stop: () => server.stop(),
  };
}
