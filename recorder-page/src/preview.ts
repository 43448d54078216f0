import { Compositor } from './compositor';
import { THEMES } from './layouts';
import { OverlayPainter } from './overlays';
import { parsePreviewQuery, previewParticipants } from './preview-scene';
import { stopVideo, syntheticView } from './synthetic-scene';

/**
 * The layout preview page: the recorder's own compositor and layouts drawing synthetic
 * participants (preview-scene.ts, as videos by synthetic-scene.ts), no room and no server.
 * window.preview.render(query) resolves to one frame as a PNG data URL.
 */

declare global {
  interface Window {
    preview: { render(query: string): Promise<string> };
  }
}

async function render(query: string): Promise<string> {
  const request = parsePreviewQuery(query);
  const size = { width: request.width, height: request.height };
  const [views, overlays] = await Promise.all([
    Promise.all(previewParticipants(request).map((p, i) => syntheticView(p, i))),
    request.overlays ? OverlayPainter.load(request.overlays, size) : undefined,
  ]);
  // the compositor draws its first frame when it is made
  const compositor = new Compositor({ ...size, fps: 30, layout: request.layout, theme: THEMES[request.theme], overlays }, () => views, () => undefined);
  compositor.stop();
  for (const v of views) for (const el of [v.camera, v.screen]) stopVideo(el);
  compositor.track.stop();
  return compositor.canvas.toDataURL('image/png');
}

window.preview = { render };
