import { findFreeDevServerPort, startDevServer } from '../../../src/demo/dev-server';
import type { StartedService } from '../global-setup';

/** One livekit-server for the whole run, on ports of its own so a running demo (7880) does not collide. */
export async function start(): Promise<StartedService> {
  const server = await startDevServer({ port: await findFreeDevServerPort(7890) });
  return {
    env: {
      TEST_LIVEKIT_URL: server.url,
      TEST_LIVEKIT_API_KEY: server.apiKey,
      TEST_LIVEKIT_API_SECRET: server.apiSecret,
    },
    stop: () => server.stop(),
  };
}
