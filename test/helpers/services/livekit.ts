import { isPortFree, startDevServer } from '../../../src/livekit/dev-server';
import type { StartedService } from '../global-setup';

/** One livekit-server for the whole run, on ports of its own so a running demo (7880) does not collide. */
export async function start(): Promise<StartedService> {
  let port = 7890;
  while (!((await isPortFree(port)) && (await isPortFree(port + 1)) && (await isPortFree(port + 2)))) {
    port += 10;
    if (port > 8990) throw new Error('no free ports for the test livekit-server');
  }
  const server = await startDevServer({ port });
  return {
    env: {
      TEST_LIVEKIT_URL: server.url,
      TEST_LIVEKIT_API_KEY: server.apiKey,
      TEST_LIVEKIT_API_SECRET: server.apiSecret,
    },
    stop: () => server.stop(),
  };
}
