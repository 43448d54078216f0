import { AppError } from '../errors';
import { recorderToken, type LivekitCredentials } from '../livekit/tokens';
import type { RecorderPage } from './browser-pages';
import type { BrowserPool } from './browser-pool';
import { openLayoutPage } from './layout-page';
import type { HlsOutputTarget } from './hls-output';
import { overlayImageReader, pageOverlays, presetAssetsIn } from './overlay-assets';
import { recorderIdentity } from './session-live-change';
import type { Logger } from './logger';
import type { RecordingOptions, RecordingRequest } from '../recordings/contract';
import { containerFormat } from '../recordings/formats';
import { hlsOutputOf, streamOutputsOf } from '../recordings/outputs';
import { DEFAULT_THEME } from '../../recorder-page/src/layouts/names';

export interface PageEvents {
  /** A custom layout page said END_RECORDING. */
  onEnd: () => void;
  /** A custom layout page tried to leave its origin (for `origin`). */
  onLeft: (origin: string) => void;
  /** The page or its browser died. */
  onCrash: (error: AppError) => void;
}

/**
 * The page of one recording, with its launch parameters: a custom layout page when the
 * options name one (tab capture), else a standby recorder page of the pool. Both join the
 * room with a hidden subscribe-only token of their own. `detach` stops watching the browser.
 */
export async function openRecordingPage(
  deps: { livekit: LivekitCredentials; pool: BrowserPool; log: Logger; presenceWaitMs: number; streamsMayBeAdded?: boolean; hls?: HlsOutputTarget },
  req: RecordingRequest,
  launch: { ingestUrl: string; readyTimeoutMs: number },
  events: PageEvents,
): Promise<{ page: RecorderPage; params: URLSearchParams; detach: () => void }> {
  const o = req.options;
  const [token, overlays] = await Promise.all([recorderToken(deps.livekit, req.roomName, recorderIdentity(req.id)), pageOverlays(o.overlays, overlayImageReader(presetAssetsIn(deps.hls)))]);
  const page = o.customLayoutUrl
    ? await openLayoutPage(deps.pool, o.customLayoutUrl, { livekitUrl: deps.livekit.url, token, options: o, readyTimeoutMs: launch.readyTimeoutMs }, events)
    : await deps.pool.openPage();
  const detach = watchPage(page, deps.log, events.onCrash);
  const params = launchQuery(deps.livekit.url, token, launch.ingestUrl, o, deps.presenceWaitMs, deps.streamsMayBeAdded ?? false);
  if (overlays) params.set('overlays', JSON.stringify(overlays));
  return { page, params, detach };
}

/** The longest a stream may wait for a keyframe: at its start, at a restart, and a viewer at its join. */
const STREAM_KEYFRAME_MS = 2000;

/**
 * How often the page's encoder makes a keyframe (undefined: Chromium's own interval, 3.4 s).
 * HLS cuts its segments at keyframes: one per segment, or, where a stream is on the recording
 * or may be added to it (PATCH, where streams are allowed), a whole number per segment each at
 * most 2 s apart, so that segments keep their length and a stream added later does not wait 3.4 s.
 */
export function keyframeMsOf(o: RecordingOptions, streamsMayBeAdded: boolean): number | undefined {
  const hls = hlsOutputOf(o.outputs);
  const streams = streamsMayBeAdded || streamOutputsOf(o.outputs).length > 0;
  if (!hls) return streams ? STREAM_KEYFRAME_MS : undefined;
  const segmentMs = hls.segmentSeconds * 1000;
  return streams ? Math.round(segmentMs / Math.ceil(segmentMs / STREAM_KEYFRAME_MS)) : segmentMs;
}

/** MediaRecorder's chunk length with a live HLS or a stream output (the page's default is 1000 ms). */
export const HLS_TIMESLICE_MS = 250;

/** The chunk length the page is asked for (the quality report judges chunks late against it). */
export function timesliceMsOf(o: RecordingOptions): number {
  return hlsOutputOf(o.outputs)?.live ? HLS_TIMESLICE_MS : 1000;
}

/** The recorder page's launch parameters (see recorder-page/src/main.ts). */
function launchQuery(livekitUrl: string, token: string, ingestUrl: string, o: RecordingOptions, presenceWaitMs: number, streamsMayBeAdded: boolean): URLSearchParams {
  const params = new URLSearchParams({
    url: livekitUrl,
    token,
    ingest: ingestUrl,
    width: String(o.width),
    height: String(o.height),
    fps: String(o.fps),
    layout: o.layout,
    theme: o.theme ?? DEFAULT_THEME,
    codec: containerFormat(o.format).pageVideoCodec ?? 'h264',
    presenceWaitMs: String(presenceWaitMs),
  });
  if (o.videoBitrate) params.set('vbr', String(o.videoBitrate));
  if (o.audioBitrate) params.set('abr', String(o.audioBitrate));
  if (o.background) params.set('background', o.background);
  if (o.participants) params.set('participants', JSON.stringify(o.participants));
  if (o.audio) params.set('audio', JSON.stringify(o.audio));
  const keyframeMs = keyframeMsOf(o, streamsMayBeAdded);
  if (keyframeMs) params.set('keyframeMs', String(keyframeMs));
  // live HLS or a stream: shorter chunks close a segment, or reach the stream, sooner
  if (hlsOutputOf(o.outputs)?.live || streamOutputsOf(o.outputs).length > 0) params.set('timeslice', String(HLS_TIMESLICE_MS));
  if (o.chat) params.set('chat', JSON.stringify(o.chat.topics));
  if (o.tracks) params.set('tracks', o.tracks);
  return params;
}

/**
 * Logs what the page reports and calls `onCrash` when the page or its browser dies.
 * Returns the function that detaches from the browser (the page's own listeners go with it).
 */
function watchPage(opened: RecorderPage, log: Logger, onCrash: (error: AppError) => void): () => void {
  const { page } = opened;
  page.on('pageerror', (err) => log.warn({ err: (err as Error).message }, 'recorder page error'));
  page.on('console', (m) => {
    if (m.type() === 'error') log.debug({ text: m.text() }, 'recorder page console');
  });
  page.on('error', (err) => onCrash(new AppError('BROWSER_CRASHED', `recorder page crashed: ${err.message}`)));
  const browser = page.browser();
  const onBrowserGone = () => onCrash(new AppError('BROWSER_CRASHED', 'the recorder browser exited'));
  // on/off with the same function: puppeteer's once() wraps the handler and off() would miss it
  browser.on('disconnected', onBrowserGone);
  return () => browser.off('disconnected', onBrowserGone);
}
