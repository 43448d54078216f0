import { RoomEvent } from 'livekit-client';
import type { Capture } from './capture';
import { Compositor } from './compositor';
import { chooseStyle, DEFAULT_LAYOUT, THEMES } from './layouts';
import { routingFromQuery } from './audio-routing';
import { Mixer } from './mixer';
import type { PageOverlays } from './overlay-spec';
import { OverlayPainter } from './overlays';
import { beginStart, captureFromQuery, exposeRecorder, newState, queryNumber, type LiveChange } from './page-api';
import { expectedAtJoin, waitForPresence } from './presence';
import { filterFromQuery, RecordedSet } from './recorded-set';
import { LipSync } from './lip-sync';
import { ReceiveStats } from './receive-stats';
import { RoomTracker } from './room';
import { ChatRelay, chatTopicsFromQuery, SpeakerTimeline } from './timeline-events';
import { TrackRecorders, tracksModeFromQuery } from './track-recorders';

/**
 * The recorder page. The worker keeps it loaded in standby (bundle parsed, audio
 * running) and starts it with the launch parameters, so a start pays for none of that:
 *   url, token            LiveKit server and a hidden, subscribe-only recorder token
 *   ingest                ws:// URL of the worker's ingest socket, with its secret
 *   width height fps layout theme background codec vbr abr timeslice presenceWaitMs
 *   participants          who is recorded (JSON: {"include": [...]} or {"exclude": [...]})
 *   overlays              watermarks, labels, clock, background (JSON, images as data: URLs)
 *   chat                  the data topics relayed as chat (JSON list); absent: no chat
 *   audio                 dual-channel routing (JSON: {"mode": "dual-channel", "left": {...}}); absent: mixed
 *   tracks                audio | audio+video: each participant's tracks recorded apart too (track-recorders.ts)
 * Opened with those parameters in its own URL it starts by itself.
 * The worker calls window.recorder.start(query) / update(change) / stop() and reads window.recorderState.
 */

const { state, mark } = newState(false);

// made before any recording is asked for: an AudioContext takes a while to come up
const mixer = new Mixer();
const audioReady = mixer.resume().then(() => mark('ready'));

let stopRecording: () => Promise<void> = async () => undefined;
let recordingCapture: Capture | undefined;
let recordingTracks: TrackRecorders | undefined;
let applyChange: (change: LiveChange) => Promise<void> = async () => {
  throw new Error('the recorder is not recording');
};

/** The overlays' painter, its images decoded; undefined for none. */
async function loadOverlays(spec: PageOverlays | null, size: { width: number; height: number }): Promise<OverlayPainter | undefined> {
  return spec && Object.keys(spec).length > 0 ? OverlayPainter.load(spec, size) : undefined;
}

async function start(query: string): Promise<void> {
  const { q, width, height, fps } = beginStart(state, mark, query);
  // decoded while the page joins; on the canvas from the first frame recorded
  const overlaysLoaded = loadOverlays(JSON.parse(q.get('overlays') ?? 'null') as PageOverlays | null, { width, height });
  overlaysLoaded.catch(() => undefined);
  let overlays: OverlayPainter | undefined;

  let compositor: Compositor | undefined;
  const recorded = new RecordedSet(mixer, routingFromQuery(q.get('audio')));
  recorded.set(filterFromQuery(q.get('participants')));
  let tracks: TrackRecorders | undefined;
  const tracker = new RoomTracker({
    onAudioTrack: (id, track, identity, agent) => {
      recorded.addAudio(id, track, identity, agent);
      tracks?.sync();
    },
    onAudioTrackGone: (id) => {
      recorded.removeAudio(id);
      tracks?.sync();
    },
    onChange: () => {
      compositor?.relayout();
      tracks?.sync();
      reportPresence();
    },
    onDisconnected: (reason) => {
      if (state.phase === 'recording') capture.sendStats({ type: 'disconnected', reason });
    },
  });
  const style = chooseStyle(q.get('layout') ?? DEFAULT_LAYOUT, q.get('theme'));
  compositor = new Compositor(
    { width, height, fps, layout: style.layout, theme: THEMES[style.theme], background: q.get('background') ?? undefined },
    () => tracker.ordered().filter((v) => recorded.recorded(v.identity)),
    (tiles) => tiles.forEach((t) => tracker.setTileSize(t.identity, t.kind, t.w, t.h)),
  );
  const capture = captureFromQuery(new MediaStream([compositor.track, mixer.track]), q, { width, height, fps });
  state.mimeType = capture.mimeType;
  recordingCapture = capture;
  const tracksMode = tracksModeFromQuery(q.get('tracks'));
  const abr = q.get('abr');
  if (tracksMode) tracks = recordingTracks = new TrackRecorders(tracker.room, tracksMode, { ingestUrl: q.get('ingest') ?? '', codec: q.get('codec'), audioBitsPerSecond: abr ? Number(abr) : undefined }, (identity) => recorded.recorded(identity), (sid) => mixer.tap(sid));
  compositor.onFirstVideo = (identity) => capture.sendStats({ type: 'firstVideo', identity, at: Date.now() });
  // who is recorded, as they come and go (the quality report's joins and leaves)
  const present = new Map<string, string>();
  const reportPresence = () => {
    if (state.phase !== 'recording' && state.phase !== 'starting') return;
    const now = new Map(tracker.ordered().filter((v) => recorded.recorded(v.identity)).map((v) => [v.identity, v.name]));
    for (const [identity, name] of now) if (!present.has(identity)) capture.sendStats({ type: 'presence', identity, name, present: true, at: Date.now() });
    for (const [identity, name] of present) if (!now.has(identity)) capture.sendStats({ type: 'presence', identity, name, present: false, at: Date.now() });
    present.clear();
    for (const [identity, name] of now) present.set(identity, name);
  };

  const isRecorded = (identity: string) => recorded.recorded(identity);
  const speakers = new SpeakerTimeline(tracker.room, isRecorded, () => recorded.loudness(), (m) => capture.sendEvent(m));
  let chat: ChatRelay | undefined;

  const speakerSeed = setInterval(() => {
    if (!tracker.seedSpeakers(recorded.loudness())) clearInterval(speakerSeed);
  }, 200);
  const receiveStats = new ReceiveStats();
  const lipSync = new LipSync(() => tracker.room.remoteParticipants.values());
  const statsTimer = setInterval(() => {
    const drawn = { fps: compositor.fps(), frames: compositor.frames, maxFrameGapMs: compositor.takeMaxFrameGap() };
    void receiveStats.sample(tracker.room.remoteParticipants.values(), isRecorded).then(({ av, sound }) => {
      lipSync.settled(av);
      capture.sendStats({
        type: 'stats',
        ...drawn,
        participants: tracker.participants.size,
        audioInputs: mixer.size,
        videoInputs: tracker.videoInputs(),
        framesDropped: compositor.framesDropped,
        framesLate: compositor.framesLate,
        av,
        sound,
      });
    });
  }, 1000);

  applyChange = async (change) => {
    if (change.overlays !== undefined) overlays = await loadOverlays(change.overlays, { width, height });
    const next = chooseStyle(change.layout, change.theme);
    recorded.set(change.participants);
    tracks?.sync();
    speakers.recordedChanged();
    reportPresence();
    compositor.restyle({ layout: next.layout, theme: THEMES[next.theme], overlays });
  };

  stopRecording = async () => {
    if (state.phase !== 'recording' && state.phase !== 'starting') return;
    state.phase = 'stopping';
    clearInterval(statsTimer);
    clearInterval(speakerSeed);
    lipSync.stop();
    speakers.stop();
    chat?.stop();
    await Promise.all([capture.stop(), tracks?.stop()]);
    compositor.stop();
    state.phase = 'stopped';
    await Promise.allSettled([tracker.disconnect(), mixer.close()]);
  };

  await audioReady;
  // The ingest socket opens now so the worker's FFmpeg is up by the first chunk. The
  // encoder starts only once everyone present at the join is on the canvas (bounded
  // wait): the file's first frame shows the call, and its time 0 is that instant.
  capture.open();
  // from the first subscription: the first second's sound is in sync with its picture too
  lipSync.start();
  await join(tracker, capture, q);
  const presence = await waitForPresence(tracker, expectedAtJoin(tracker.room).filter((e) => recorded.recorded(e.identity)), queryNumber(q, 'presenceWaitMs', 2500));
  mark('present');
  if (state.phase !== 'starting') return; // given up meanwhile (stopped before it began)
  tracker.seedSpeakers(recorded.loudness()); // the first frame's stage already shows who talks
  overlays = await overlaysLoaded;
  compositor.restyle({ layout: style.layout, theme: THEMES[style.theme], overlays });
  compositor.start();
  capture.start();
  mark('capture');
  tracks?.start(state.marks.capture);
  state.phase = 'recording';
  capture.announceStart({ type: 'started', at: performance.timeOrigin + state.marks.capture, ...presence, marks: state.marks });
  // the timeline from time 0: who speaks now, then each change; the chat from now on
  speakers.start();
  const chatTopics = chatTopicsFromQuery(q.get('chat'));
  if (chatTopics) chat = new ChatRelay(tracker.room, chatTopics, isRecorded, (m) => capture.sendEvent(m));
}

async function join(tracker: RoomTracker, capture: Capture, q: URLSearchParams): Promise<void> {
  mark('joining');
  tracker.room.once(RoomEvent.SignalConnected, () => mark('signal'));
  try {
    await tracker.connect(q.get('url') ?? '', q.get('token') ?? '');
  } catch (err) {
    state.error = `could not join the room: ${(err as Error).message}`;
    capture.sendStats({ type: 'error', message: state.error });
    throw new Error(state.error);
  }
  state.joined = true;
  mark('joined');
  capture.sendStats({ type: 'joined', participants: tracker.participants.size, marks: state.marks });
}

// pause and resume take the tracks' encoders with the composite's
const pausable = () =>
  recordingCapture && {
    pause: () => (recordingCapture!.pause(), recordingTracks?.pause()),
    resume: () => (recordingCapture!.resume(), recordingTracks?.resume()),
  };
exposeRecorder(state, start, () => stopRecording(), (change) => applyChange(change), pausable);

if (new URLSearchParams(location.search).has('ingest')) void window.recorder.start(location.search).catch(() => undefined);
