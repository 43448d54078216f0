import { Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { demoCommand } from './demo/demo';
import { recordCommand } from './cli/record';
import { makeToken, type ProcessKind } from './app';
import { serveCommand } from './cli/serve';
import { loadConfig } from './config';
import { isAppError } from './errors';
import { DEFAULT_RECORDING_OPTIONS, OPTION_LIMITS, OUTPUT_FORMATS } from './recordings/options';
import { LAYOUT_NAMES } from '../recorder-page/src/layouts/names';

function int(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('not a number');
  return n;
}

function cliLogger(level: string) {
  // human-facing commands log to stderr so stdout carries only the result
  return pino({ level, base: undefined }, pino.destination(2));
}

export function buildProgram(): Command {
  const program = new Command('recorder')
    .description('Records LiveKit rooms the way viewers see them: Chromium compositing, MediaRecorder, FFmpeg.')
    .showHelpAfterError();

  program
    .command('record')
    .description('record one room to a file, until --duration or Ctrl-C')
    .addOption(new Option('--url <url>', 'LiveKit server URL, ws:// or wss://').env('LIVEKIT_URL'))
    .addOption(new Option('--api-key <key>', 'LiveKit API key').env('LIVEKIT_API_KEY'))
    .addOption(new Option('--api-secret <secret>', 'LiveKit API secret').env('LIVEKIT_API_SECRET'))
    .requiredOption('--room <name>', 'room to record')
    .requiredOption('--output <file>', 'output file (.mp4, .webm or .mkv)')
    .option('--duration <seconds>', 'stop after this many seconds', int)
    .option('--width <px>', `output width, even, ${OPTION_LIMITS.minWidth} to ${OPTION_LIMITS.maxWidth}`, int, DEFAULT_RECORDING_OPTIONS.width)
    .option('--height <px>', `output height, even, ${OPTION_LIMITS.minHeight} to ${OPTION_LIMITS.maxHeight}`, int, DEFAULT_RECORDING_OPTIONS.height)
    .option('--fps <n>', `output frame rate: ${OPTION_LIMITS.fps.join(', ')}`, int, DEFAULT_RECORDING_OPTIONS.fps)
    .addOption(new Option('--format <format>', 'output format (default: from --output)').choices(OUTPUT_FORMATS))
    .addOption(new Option('--layout <layout>', 'layout').choices(LAYOUT_NAMES).default(DEFAULT_RECORDING_OPTIONS.layout))
    .option('--layout-url <url>', 'record this custom layout page (tab capture) instead of a built-in layout; it gets url, token, layout, width, height, fps and says START_RECORDING / END_RECORDING on its console')
    .action(async (opts) => {
      // flags and LIVEKIT_* are read by commander; everything else by the one config loader
      const config = loadConfig({
        ...process.env,
        ...(opts.url ? { LIVEKIT_URL: opts.url } : {}),
        ...(opts.apiKey ? { LIVEKIT_API_KEY: opts.apiKey } : {}),
        ...(opts.apiSecret ? { LIVEKIT_API_SECRET: opts.apiSecret } : {}),
      });
      const log = cliLogger(config.api.logLevel === 'info' ? 'warn' : config.api.logLevel);
      await recordCommand(config, config.livekit, opts, log);
    });

  program
    .command('demo')
    .description('start a local livekit-server and two synthetic participants, record them, stop everything')
    .option('--seconds <n>', 'how long to record', int, 10)
    .option('--output <file>', 'output file')
    .action(async (opts) => {
      const config = loadConfig();
      await demoCommand(config, opts, cliLogger('warn'));
    });

  const modes: [ProcessKind, string][] = [
    ['all', 'API, recorder and post-processing in one process (embedded PGlite and in-process dispatch unless DATABASE_URL/REDIS_URL are set)'],
    ['serve', 'the REST API only; recordings go to workers through Redis (REDIS_URL required)'],
    ['worker', 'recorder and post-processing, no HTTP API; takes recordings from Redis (REDIS_URL required)'],
  ];
  for (const [mode, description] of modes) {
    program
      .command(mode)
      .description(description)
      .action(async () => {
        await serveCommand(mode, loadConfig());
      });
  }

  program
    .command('token')
    .description('print a dev JWT for a user, signed with AUTH_JWT_SECRET (HS256)')
    .requiredOption('--user <id>', 'the user id (sub claim)')
    .option('--expires <seconds>', 'lifetime in seconds', int, 3600)
    .option('--room <name...>', 'rooms the user may create calls for (rooms claim; * for any)')
    .action(async (opts: { user: string; expires: number; room?: string[] }) => {
      process.stdout.write(`${await makeToken(loadConfig(), opts.user, opts.expires, opts.room ?? [])}\n`);
    });

  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (isAppError(err)) {
      process.stderr.write(`error [${err.code}]: ${err.message}\n`);
      process.exitCode = err.status < 500 && err.fault === 'caller' ? 2 : 1;
    } else {
      process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  }
}

void main(process.argv);
