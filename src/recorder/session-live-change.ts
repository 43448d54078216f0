import { isDeepStrictEqual } from 'node:util';
import { roomService, type LivekitCredentials } from '../livekit/tokens';
import type { RecordingOptions, RecordingRequest } from '../recordings/contract';
import { DEFAULT_THEME, layoutSpelling } from '../../recorder-page/src/layouts/names';
import type { RecorderPage } from './browser-pages';
import { withDeadline } from './deadline';
import type { HlsOutputTarget } from './hls-output';
import { overlayImageReader, pageOverlays, presetAssetsIn } from './overlay-assets';

/** The recorder's participant identity in the room (page-launch.ts mints its token with it). */
export const recorderIdentity = (recordingId: string) => `recorder-${recordingId}`;

/**
 * A live change reaching what is recorded. The recorder page is told the new layout, theme,
 * participants filter and overlays (window.recorder.update; their images fetched first) and
 * draws them from its next frame once the images are decoded; a custom
 * layout page hears a layout the way @livekit/egress-sdk's onLayoutChanged does: in the
 * recorder participant's metadata, `{"layout": "speaker-light"}`, set by the server (its token
 * cannot update its own metadata).
 */
export async function applyToPage(deps: { livekit: LivekitCredentials; hls?: HlsOutputTarget }, req: RecordingRequest, page: RecorderPage, options: RecordingOptions, drawn: RecordingOptions): Promise<void> {
  const theme = options.theme ?? DEFAULT_THEME;
  if (options.customLayoutUrl) {
    const metadata = JSON.stringify({ layout: layoutSpelling(options.layout, theme) });
    await roomService(deps.livekit).updateParticipant(req.roomName, recorderIdentity(req.id), { metadata });
    return;
  }
  // the images are fetched (and decoded by the page) only when the overlays change, not for every layout or filter change
  const overlays = isDeepStrictEqual(options.overlays, drawn.overlays) ? {} : { overlays: await pageOverlays(options.overlays, overlayImageReader(presetAssetsIn(deps.hls))) };
  const change = { layout: options.layout, theme, participants: options.participants ?? null, ...overlays };
  await withDeadline(page.run(`window.recorder.update(${JSON.stringify(change)})`), 5000, () => new Error('the recorder page did not apply the change within 5 s'));
}
