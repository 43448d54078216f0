import { Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { demoCommand } from './demo/demo';
import { previewLayoutCommand } from './cli/preview-layout';
import { recordCommand } from './cli/record';
import { makeToken, type ProcessKind } from './app';
import { serveCommand } from './cli/serve';
import { loadConfig } from './config';
import { isAppError } from './errors';
import { DEFAULT_RECORDING_OPTIONS, OPTION_LIMITS, OUTPUT_FORMATS } from './recordings/options';
import { DEFAULT_PREVIEW_PARTICIPANTS, PREVIEW_LIMITS } from './recordings/preview-options';
import { TRACKS_MODES } from './recordings/tracks-option';
import { DEFAULT_THEME, LAYOUT_NAMES, THEME_NAMES } from '../recorder-page/src/layouts/names';

function int(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('not a number');
  return n;
}

const SIZE_HELP = (side: string) =>
  `output ${side}, even, ${OPTION_LIMITS.minSide} to ${OPTION_LIMITS.maxSide}, at most 1920x1080's pixels (portrait: --width 1080 --height 1920)`;
const THEME_HELP = `${THEME_NAMES.join(' or ')} (default: the one --layout names, else ${DEFAULT_THEME})`;
const LAYOUT_HELP = `${LAYOUT_NAMES.join(', ')}; each also as NAME-light or NAME-dark (single: single-speaker)`;

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
    .option('--width <px>', SIZE_HELP('width'), int, DEFAULT_RECORDING_OPTIONS.width)
    .option('--height <px>', SIZE_HELP('height'), int, DEFAULT_RECORDING_OPTIONS.height)
    .option('--fps <n>', `output frame rate: ${OPTION_LIMITS.fps.join(', ')}`, int, DEFAULT_RECORDING_OPTIONS.fps)
    .addOption(new Option('--format <format>', 'output format (default: from --output)').choices(OUTPUT_FORMATS))
    .addOption(new Option('--layout <layout>', LAYOUT_HELP).default(DEFAULT_RECORDING_OPTIONS.layout))
    .option('--theme <theme>', THEME_HELP)
    .option('--layout-url <url>', 'record this custom layout page (tab capture) instead of a built-in layout; it gets url, token, layout, width, height, fps and says START_RECORDING / END_RECORDING on its console')
    .option('--tracks <mode>', `also each participant's own tracks, ${TRACKS_MODES.join(' or ')}: files in <output>.tracks/, listed with their offsets in its tracks.json`)
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

  program
    .command('preview-layout')
    .description('render one frame of a layout with synthetic participants to a PNG, drawn by the recorder page\'s own compositor; no call or LiveKit server needed')
    .requiredOption('--output <file.png>', 'the PNG to write')
    .addOption(new Option('--layout <layout>', LAYOUT_HELP).default(DEFAULT_RECORDING_OPTIONS.layout))
    .option('--theme <theme>', THEME_HELP)
    .option('--participants <n>', `synthetic participants, ${PREVIEW_LIMITS.minParticipants} to ${PREVIEW_LIMITS.maxParticipants}`, int, DEFAULT_PREVIEW_PARTICIPANTS)
    .option('--width <px>', SIZE_HELP('width'), int, DEFAULT_RECORDING_OPTIONS.width)
    .option('--height <px>', SIZE_HELP('height'), int, DEFAULT_RECORDING_OPTIONS.height)
    .option('--screen-share [k]', 'participant k (default 1) shares a screen', int)
    .option('--speaking <k>', 'participant k speaks (the speaker layouts put them on the stage)', int)
    .option('--camera-off <k>', 'participant k has no camera (a name tile)', int)
    .option('--overlays <json>', 'overlays as in the start request, e.g. \'{"textWatermark": {"text": "ACME"}, "clock": {}}\' (images from any http(s) origin, or a preset asset, asset://<preset>/<file>, from the configured storage)')
    .option('--preset <name>', 'a layout preset from the configured database (DATABASE_URL, else the embedded one): its layout, theme, size and overlays, which the flags given override')
    .addHelpText('after', '\nExample: recorder preview-layout --layout presentation-light --participants 5 --screen-share --width 1080 --height 1920 --output p.png')
    .action(async (opts, cmd: Command) => {
      const config = loadConfig();
      // only the flags given: a preset's settings give way to those, not to the flags' defaults (the rules have the same)
      const given = Object.fromEntries(Object.entries(opts).filter(([key]) => cmd.getOptionValueSource(key) !== 'default'));
      await previewLayoutCommand(config, { ...given, output: opts.output, screenShare: opts.screenShare === true ? 1 : opts.screenShare }, cliLogger('warn'));
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
