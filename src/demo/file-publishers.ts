import { execFile, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { publisherToken, type LivekitCredentials } from '../livekit/tokens';
import { silentLogger } from '../recorder/logger';
import { weightSession } from '../recorder/session-weight';

const run = promisify(execFile);

/** Where scripts/bootstrap installs tools/file-publisher. */
export const FILE_PUBLISHER_BINARY = '/usr/local/bin/lkrec-file-publisher';

export interface FilePublisherSpec {
  room: string;
  identity: string;
  name?: string;
  /** Colour of the camera picture, '#rrggbb'. */
  colour: string;
  /** Sine tone in Hz; 0 for silence. */
  tone: number;
  /**
   * Black with a white flash and a 1 kHz beep together, 100 ms every 2 s, instead of the
   * colour and tone (A/V offset measurement). The flashes start at the wall-clock instants
   * that are whole multiples of 2 s since the Unix epoch, for every flash publisher.
   */
  flash?: boolean;
}

/** A publisher's session weight: the recorder browser's default (WORKER_SESSION_NICE). */
const PUBLISHER_SESSION_NICE = -8;

export interface FilePublisher {
  identity: string;
  pid: number;
  /** Leaves the room and ends the process. */
  leave(): Promise<void>;
}

export interface FilePublishersOptions {
  livekit: LivekitCredentials;
  binary?: string;
  ffmpegPath?: string;
  /** Cache of the encoded media, made once per content. */
  mediaDir?: string;
  readyTimeoutMs?: number;
}

/**
 * Participants of known content that cost almost nothing: each a process of
 * tools/file-publisher publishing a VP8 file (640x360, 30 fps, a keyframe every 5 frames
 * since a file cannot answer a keyframe request) and an Opus file, both 2 s, looped.
 * The same shape as SyntheticPublishers, for benchmarks that must measure the recorder.
 */
export class FilePublishers {
  private readonly live = new Set<FilePublisher>();
  private closed = false;

  private constructor(
    private readonly opts: Required<FilePublishersOptions>,
    private readonly media: MediaCache,
  ) {}

  static async launch(opts: FilePublishersOptions): Promise<FilePublishers> {
    const full = {
      binary: FILE_PUBLISHER_BINARY,
      ffmpegPath: 'ffmpeg',
      mediaDir: path.join(os.homedir(), '.cache', 'livekit-recorder', 'media'),
      readyTimeoutMs: 20000,
      ...opts,
    };
    await fs.access(full.binary, fs.constants.X_OK).catch(() => {
      throw new Error(`file publisher ${full.binary} is not there: run scripts/bootstrap`);
    });
    await fs.mkdir(full.mediaDir, { recursive: true });
    await sweepStaleParts(full.mediaDir);
    return new FilePublishers(full, new MediaCache(full.mediaDir, full.ffmpegPath));
  }

  pids(): number[] {
    return [...this.live].map((p) => p.pid);
  }

  async add(spec: FilePublisherSpec): Promise<FilePublisher> {
    if (this.closed) throw new Error('file publishers are closed');
    const [video, audio] = await Promise.all([
      spec.flash ? this.media.flashVideo() : this.media.solidVideo(spec.colour),
      spec.flash ? this.media.flashAudio() : this.media.tone(spec.tone),
    ]);
    const token = await publisherToken(this.opts.livekit, spec.room, spec.identity, spec.name ?? spec.identity);
    // -13 dBov is the level of a 0.3 sine, what a Chromium publisher's tone reports
    const level = spec.tone > 0 || spec.flash ? 13 : 127;
    const args = ['--url', this.opts.livekit.url, '--token', token, '--video', video, '--audio', audio, '--audio-level', String(level), '--exit-on-stdin-close'];
    // a group of its own, so a signal from the terminal to ours is not also its own;
    // stdin is its lifeline: it leaves when we die, however we die
    const child = spawn(this.opts.binary, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    // it stands in for a participant on a machine of its own and costs almost nothing: weighted
    // as a worker's recorder browser (where this process may), so the browser does not starve it
    if (child.pid !== undefined) weightSession(PUBLISHER_SESSION_NICE, silentLogger, child.pid);
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    track(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const publisher: FilePublisher = {
      identity: spec.identity,
      pid: child.pid!,
      leave: async () => {
        this.live.delete(publisher);
        await stop(child, exited);
      },
    };
    // counted from the start, so a close() meanwhile ends it too (and this add fails)
    this.live.add(publisher);
    try {
      await this.ready(child, exited, spec.identity, () => stderr);
    } catch (err) {
      await publisher.leave();
      throw err;
    }
    return publisher;
  }

  private ready(child: ChildProcess, exited: Promise<void>, identity: string, stderr: () => string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`file publisher ${identity} ${why}: ${stderr().trim() || 'no output'}`));
      const timer = setTimeout(() => fail(`was not ready within ${this.opts.readyTimeoutMs} ms`), this.opts.readyTimeoutMs);
      child.once('error', (err) => fail(`could not start (${err.message})`));
      void exited.then(() => fail(`exited with ${child.exitCode ?? child.signalCode}`));
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line !== 'READY') return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.live].map((p) => p.leave()));
  }
}

// Publisher processes of this process, told to leave when it exits even if nobody called
// close(); they leave and exit within 3 s (and do as well when their stdin closes).
const children = new Set<ChildProcess>();
function track(child: ChildProcess): void {
  if (children.size === 0) process.once('exit', endAll);
  children.add(child);
  child.once('close', () => {
    children.delete(child);
    if (children.size === 0) process.off('exit', endAll);
  });
}
function endAll(): void {
  for (const child of children) signalGroup(child, 'SIGTERM');
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Half-made files of a process that died while making them (an hour is ample to finish). */
async function sweepStaleParts(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (!/\.tmp\.\w+$/.test(name)) continue;
    const file = path.join(dir, name);
    // another process may be renaming it right now
    const made = await fs.stat(file).then((s) => s.mtimeMs, () => Date.now());
    if (made < Date.now() - 3600_000) await fs.rm(file, { force: true });
  }
}

// One loop length for every file, so a flash video and its beeps stay aligned when looped.
const LOOP_S = 2;
const FPS = 30;
const VP8 = [
  '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-auto-alt-ref', '0', '-lag-in-frames', '0',
  '-g', '5', '-keyint_min', '5', '-force_key_frames', 'expr:eq(mod(n,5),0)', '-f', 'ivf',
];
// libopus delays its output by 312 samples (its pre-skip): the source is advanced by as much
// so that packet k carries the audio of k * 20 ms, in step with the video frame of that time
const PRE_SKIP = 312;

/** The encoded files, made by FFmpeg on first use and kept under names that hash their recipe. */
class MediaCache {
  private readonly making = new Map<string, Promise<string>>();

  constructor(
    private readonly dir: string,
    private readonly ffmpeg: string,
  ) {}

  solidVideo(colour: string): Promise<string> {
    if (!/^#[0-9a-fA-F]{6}$/.test(colour)) throw new Error(`colour ${JSON.stringify(colour)} is not #rrggbb`);
    return this.video(`solid-${colour.slice(1).toLowerCase()}`, `color=c=0x${colour.slice(1)}:s=640x360:r=${FPS}:d=${LOOP_S}`);
  }

  flashVideo(): Promise<string> {
    return this.video('flash', `color=c=black:s=640x360:r=${FPS}:d=${LOOP_S},drawbox=c=white:t=fill:enable='lt(n,3)'`);
  }

  tone(hz: number): Promise<string> {
    if (!(hz >= 0 && hz < 24000)) throw new Error(`tone ${hz} Hz is not between 0 and 24000`);
    return this.audio(`tone-${hz}`, (t) => (hz ? `0.3*sin(2*PI*${hz}*${t})` : '0'));
  }

  flashAudio(): Promise<string> {
    return this.audio('flash', (t) => `if(lt(mod(${t},${LOOP_S}),0.1),0.5*sin(2*PI*1000*${t}),0)`);
  }

  private video(name: string, source: string): Promise<string> {
    return this.make(name, 'ivf', [source, ...VP8], async (out) => {
      await this.run(['-f', 'lavfi', '-i', source, ...VP8, out]);
    });
  }

  /** An Opus loop of a sample expression of the time: the middle of three encoded periods,
   *  so the packets at the seam are the encoder's steady state, not its start. */
  private audio(name: string, expr: (t: string) => string): Promise<string> {
    const source = `aevalsrc='${expr(`(t+${PRE_SKIP}/48000)`)}':s=48000:d=${3 * LOOP_S + 0.5}`;
    const opus = ['-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20', '-page_duration', '20000', '-ac', '1'];
    return this.make(name, 'ogg', [source, ...opus], async (out) => {
      const three = `${out}.three.ogg`;
      try {
        await this.run(['-f', 'lavfi', '-i', source, ...opus, three]);
        // packet k starts at k * 960 - 312 samples in the file: keep k = 100..199
        await this.run(['-i', three, '-c', 'copy', '-ss', String(LOOP_S - 0.01), '-t', String(LOOP_S), '-f', 'ogg', out]);
      } finally {
        await fs.rm(three, { force: true });
      }
      const { stdout } = await run(this.ffmpeg, ['-v', 'error', '-i', out, '-c', 'copy', '-f', 'framecrc', '-']);
      const packets = stdout.split('\n').filter((l) => /^\d/.test(l)).length;
      if (packets !== LOOP_S * 50) throw new Error(`${out} has ${packets} Opus packets, not ${LOOP_S * 50}`);
    });
  }

  private make(name: string, ext: string, recipe: string[], write: (out: string) => Promise<void>): Promise<string> {
    const hash = crypto.createHash('sha256').update(JSON.stringify([recipe, PRE_SKIP])).digest('hex').slice(0, 10);
    const file = path.join(this.dir, `${name}-${hash}.${ext}`);
    let made = this.making.get(file);
    if (!made) {
      made = (async () => {
        if (await fs.stat(file).then((s) => s.size > 0, () => false)) return file;
        // written aside and renamed, so another process never reads half a file
        const tmp = `${file}.${process.pid}.${crypto.randomUUID()}.tmp.${ext}`;
        try {
          await write(tmp);
          await fs.rename(tmp, file);
        } finally {
          await fs.rm(tmp, { force: true });
        }
        return file;
      })();
      made.catch(() => this.making.delete(file));
      this.making.set(file, made);
    }
    return made;
  }

  private async run(args: string[]): Promise<void> {
    await run(this.ffmpeg, ['-v', 'error', '-y', ...args]).catch((err: Error & { stderr?: string }) => {
      throw new Error(`ffmpeg could not make a publisher file: ${err.stderr?.trim() || err.message}`);
    });
  }
}
