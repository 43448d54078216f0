import { FrameClock } from './frame-clock';
import { Mixer } from './mixer';
import type { Capture } from './capture';
import { beginStart, captureFromQuery, exposeRecorder, newState } from './page-api';

/**
 * The picture source for custom layout pages: the worker injects this script into the
 * operator's page once it said START_RECORDING, and it records the tab itself (what the
 * page shows and plays) into the same MediaRecorder -> ingest path as the compositor.
 * Same interface as the recorder page: window.recorder.start(query) / stop() and
 * window.recorderState. Query: ingest width height fps format vbr abr timeslice.
 * Chromium must run with --auto-accept-this-tab-capture, else getDisplayMedia never answers.
 *
 * Tab capture delivers a frame only when the page repaints, and fewer on a loaded machine
 * (19-30 fps measured here); the captured picture is drawn on a canvas at the fixed frame
 * rate, as the compositor does, so the file has a constant one.
 */

// the layout page joined the room itself before it said START_RECORDING
const { state, mark } = newState(true);
mark('ready');
let stopRecording: () => Promise<void> = async () => undefined;
let recordingCapture: Capture | undefined;
const clock = new FrameClock();
/** How long the start waits for the tab's first frame before it records without one. */
const FIRST_FRAME_WAIT_MS = 3000;

async function start(query: string): Promise<void> {
  const { q, width, height, fps } = beginStart(state, mark, query);

  const tab = await navigator.mediaDevices.getDisplayMedia({
    video: { frameRate: fps, width, height },
    // what the page plays, untouched: no call-style processing of a mix
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    preferCurrentTab: true,
    selfBrowserSurface: 'include',
  } as DisplayMediaStreamOptions);
  mark('tab');
  const [video] = tab.getVideoTracks();
  if (!video) throw new Error('tab capture gave no video track');
  const picture = await fixedRate(video, width, height, fps);
  // The tab's audio goes through a mix with a silent source, so the audio track carries
  // time even while the page plays nothing.
  const mixer = new Mixer();
  await mixer.resume();
  const [tabAudio] = tab.getAudioTracks();
  if (tabAudio) mixer.add('tab', tabAudio);

  const capture = captureFromQuery(new MediaStream([picture.track, mixer.track]), q, { width, height, fps });
  state.mimeType = capture.mimeType;
  recordingCapture = capture;
  const statsTimer = setInterval(() => {
    capture.sendStats({ type: 'stats', fps: picture.fps(), participants: 0, frames: picture.frames(), audioInputs: tabAudio ? 1 : 0 });
  }, 1000);
  video.addEventListener('ended', () => capture.sendStats({ type: 'error', message: 'the tab capture ended' }));

  stopRecording = async () => {
    if (state.phase !== 'recording') return;
    state.phase = 'stopping';
    clearInterval(statsTimer);
    await capture.stop();
    picture.stop();
    tab.getTracks().forEach((t) => t.stop());
    state.phase = 'stopped';
    await mixer.close();
  };

  capture.onFirstData = () => mark('firstData');
  capture.start();
  mark('capture');
  state.phase = 'recording';
  // the layout page said it is ready (START_RECORDING): who is on it is its own business
  capture.announceStart({ type: 'started', at: performance.timeOrigin + state.marks.capture, expected: [], late: [], waitedMs: 0, marks: state.marks });
}

/** The tab's video redrawn on a canvas at `fps`, whether or not the page repainted. */
async function fixedRate(tabVideo: MediaStreamTrack, width: number, height: number, fps: number) {
  const el = document.createElement('video');
  el.muted = true;
  el.playsInline = true;
  el.srcObject = new MediaStream([tabVideo]);
  // in the DOM, but outside the viewport that is being captured
  el.style.cssText = 'position:fixed;left:-10000px;top:0;width:2px;height:2px;';
  document.body.appendChild(el);
  // play() answers at the tab's first frame, so the file opens on the page's picture; a page
  // that does not repaint may be slow to give one, and the recording must start regardless
  const playing = el.play().catch(() => undefined);
  await Promise.race([playing, new Promise((resolve) => setTimeout(resolve, FIRST_FRAME_WAIT_MS))]);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { alpha: false })!;
  const track = canvas.captureStream(0).getVideoTracks()[0] as CanvasCaptureMediaStreamTrack;
  let frames = 0;
  const times: number[] = [];
  ctx.fillStyle = '#000';
  clock.start(1000 / fps, () => {
    // A canvas nothing was drawn on since the last requestFrame() gives the track no frame, and
    // MediaRecorder writes nothing until its first video frame: a page that showed no frame
    // yet is recorded as black rather than not at all (a static page may be slow to give one).
    if (el.readyState >= 2) {
      if (!state.marks.tabFrame) mark('tabFrame');
      ctx.drawImage(el, 0, 0, width, height);
    } else ctx.fillRect(0, 0, width, height);
    track.requestFrame();
    frames++;
    const now = performance.now();
    times.push(now);
    while (times.length && times[0]! < now - 1000) times.shift();
  });
  return {
    track,
    frames: () => frames,
    fps: () => times.length,
    stop: () => {
      clock.stop();
      track.stop();
      el.remove();
    },
  };
}

// a layout change reaches this page in the recorder participant's metadata (egress-sdk's onLayoutChanged), not here
exposeRecorder(
  state,
  start,
  () => stopRecording(),
  () => {
    throw new Error('a custom layout page hears layout changes in the recorder participant metadata');
  },
  () => recordingCapture,
);
