import { LocalAudioTrack, LocalVideoTrack, Room, Track } from 'livekit-client';

/**
 * A synthetic participant for the demo, the tests and the benchmarks: publishes a
 * solid colour (a canvas track) and a sine tone (a WebAudio oscillator) of known
 * values, so a recording can be checked frame by frame and by frequency.
 * Query: url token colour tone width height fps; `flash=1` instead flashes white and
 * beeps at the same instant once a second (for measuring A/V offset); `silent=1` starts with the
 * tone off (setTone turns it on and off: someone who speaks in turns).
 */
const q = new URLSearchParams(location.search);
const width = Number(q.get('width') ?? 320);
const height = Number(q.get('height') ?? 180);
const fps = Number(q.get('fps') ?? 15);
let colour = q.get('colour') ?? '#ff0000';
const tone = Number(q.get('tone') ?? 440);
const flash = q.get('flash') === '1';
const silent = q.get('silent') === '1';
/** Wall clock in ms, the clock the recorder's timeline uses. */
const wallNow = () => performance.timeOrigin + performance.now();

declare global {
  interface Window {
    publisher: {
      ready: boolean;
      error?: string;
      setCameraMuted(muted: boolean): Promise<void>;
      /** Paints the camera another colour from the next frame. */
      setColour(colour: string): void;
      shareScreen(colour: string): Promise<void>;
      stopScreenShare(): Promise<void>;
      leave(): Promise<void>;
      /** performance.now() of each white frame/beep pair (flash mode). */
      flashes: number[];
      /** Turns the tone on or off at once; resolves with that instant (wall clock, ms). */
      setTone(on: boolean): number;
      /** Sends `text` on `topic` as a data packet (publishData) or a text stream (sendText); resolves with the instant it was sent. */
      sendChat(topic: string, text: string, as: 'packet' | 'stream'): Promise<number>;
    };
  }
}

function canvasTrack(fill: string, w: number, h: number): { track: MediaStreamTrack; ctx: CanvasRenderingContext2D } {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  document.body.appendChild(canvas);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = fill;
  ctx.fillRect(0, 0, w, h);
  const track = canvas.captureStream(fps).getVideoTracks()[0];
  return { track, ctx };
}

const room = new Room({ adaptiveStream: false, dynacast: true });
const camera = canvasTrack(colour, width, height);
// keep repainting: an unchanged canvas produces no frames and the subscriber would freeze
setInterval(() => {
  if (flash) return;
  camera.ctx.fillStyle = colour;
  camera.ctx.fillRect(0, 0, width, height);
}, 1000 / fps);

const audio = new AudioContext({ sampleRate: 48000 });
const dest = audio.createMediaStreamDestination();
const osc = audio.createOscillator();
osc.frequency.value = tone;
const gain = audio.createGain();
gain.gain.value = flash || silent ? 0 : 0.3;
osc.connect(gain).connect(dest);
osc.start();

let screen: { track: MediaStreamTrack; local?: LocalVideoTrack } | undefined;

window.publisher = {
  ready: false,
  flashes: [],
  setColour(fill) {
    colour = fill;
  },
  async setCameraMuted(muted) {
    const pub = room.localParticipant.getTrackPublication(Track.Source.Camera);
    if (muted) await pub?.mute();
    else await pub?.unmute();
  },
  async shareScreen(fill) {
    const c = canvasTrack(fill, 640, 360);
    setInterval(() => {
      c.ctx.fillStyle = fill;
      c.ctx.fillRect(0, 0, 640, 360);
    }, 1000 / fps);
    const local = new LocalVideoTrack(c.track);
    screen = { track: c.track, local };
    await room.localParticipant.publishTrack(local, { source: Track.Source.ScreenShare, simulcast: false });
  },
  async stopScreenShare() {
    if (screen?.local) await room.localParticipant.unpublishTrack(screen.local);
    screen = undefined;
  },
  async leave() {
    await room.disconnect();
  },
  setTone(on) {
    gain.gain.setValueAtTime(on ? 0.3 : 0, audio.currentTime);
    return wallNow();
  },
  async sendChat(topic, text, as) {
    const at = wallNow();
    if (as === 'stream') await room.localParticipant.sendText(text, { topic });
    else await room.localParticipant.publishData(new TextEncoder().encode(text), { reliable: true, topic });
    return at;
  },
};

if (flash) {
  // black, then once a second one white frame and a 100 ms beep started in the same task
  let n = 0;
  setInterval(() => {
    n++;
    const white = n % fps === 0;
    camera.ctx.fillStyle = white ? '#ffffff' : '#000000';
    camera.ctx.fillRect(0, 0, width, height);
    if (white) {
      const t = audio.currentTime;
      gain.gain.setValueAtTime(0.5, t);
      gain.gain.setValueAtTime(0, t + 0.1);
      window.publisher.flashes.push(performance.now());
    }
  }, 1000 / fps);
}

(async () => {
  await audio.resume();
  await room.connect(q.get('url') ?? '', q.get('token') ?? '');
  await room.localParticipant.publishTrack(new LocalVideoTrack(camera.track), {
    source: Track.Source.Camera,
    simulcast: q.get('simulcast') === '1',
    videoEncoding: { maxBitrate: 300_000, maxFramerate: fps },
  });
  await room.localParticipant.publishTrack(new LocalAudioTrack(dest.stream.getAudioTracks()[0]), {
    source: Track.Source.Microphone,
    dtx: false,
    red: false,
  });
  window.publisher.ready = true;
})().catch((err: Error) => {
  window.publisher.error = err.message;
});
