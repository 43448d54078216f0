import path from 'node:path';
import type { Config } from '../config';
import { findFreeDevServerPort, startDevServer, type DevServer } from './dev-server';
import { SyntheticPublishers } from './synthetic-publishers';
import type { Logger } from '../recorder/logger';
import { recordCommand } from '../cli/record';

export const DEMO_PUBLISHERS = [
  { identity: 'alice', name: 'Alice', colour: '#e03131', tone: 440 },
  { identity: 'bob', name: 'Bob', colour: '#1971c2', tone: 660 },
];

/**
 * `recorder demo`: a local livekit-server, two synthetic participants (a colour and a
 * tone each), a recording of `seconds`, then everything it started is stopped.
 */
export async function demoCommand(config: Config, opts: { seconds: number; output?: string }, log: Logger): Promise<void> {
  const say = (msg: string) => process.stderr.write(`demo: ${msg}\n`);
  let server: DevServer | undefined;
  let publishers: SyntheticPublishers | undefined;
  try {
    server = await startDevServer({ port: await findFreeDevServerPort(7880) });
    say(`livekit-server ${server.url} (dev keys devkey/secret, pid ${server.pid})`);
    const livekit = { url: server.url, apiKey: server.apiKey, apiSecret: server.apiSecret };
    publishers = await SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit });
    for (const p of DEMO_PUBLISHERS) {
      await publishers.add({ room: 'demo', ...p });
      say(`${p.name} joined room "demo": ${p.colour}, ${p.tone} Hz tone`);
    }
    const output = path.resolve(opts.output ?? path.join(config.recorder.outputDir, `demo-${Date.now()}.mp4`));
    say(`recording ${opts.seconds} s to ${output}`);
    await recordCommand(
      config,
      livekit,
      { room: 'demo', output, duration: opts.seconds, width: 1280, height: 720, fps: 30, layout: 'grid' },
      log,
    );
    say('done; everything the demo started is stopped');
  } finally {
    await publishers?.close();
    await server?.stop();
  }
}
