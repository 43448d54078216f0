import { Compositor } from './compositor';
import { THEMES } from './layouts';
import { OverlayPainter } from './overlays';
import { parsePreviewQuery, previewParticipants, type PreviewParticipant } from './preview-scene';
import { hasFrame, type ParticipantView } from './room';

/**
 * The layout preview page: the recorder's own compositor and layouts drawing synthetic
 * participants (preview-scene.ts), no room and no server. Each camera and share is a real
 * <video> playing a canvas stream, so the compositor draws exactly what it draws in a call.
 * window.preview.render(query) resolves to one frame as a PNG data URL.
 */

declare global {
  interface Window {
    preview: { render(query: string): Promise<string> };
  }
}

/** A <video> showing a still picture: `colour`, with a few bars that say what it is. */
async function syntheticVideo(colour: string, label: string, kind: 'camera' | 'screen'): Promise<HTMLVideoElement> {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  const ctx = canvas.getContext('2d')!;
  const paint = () => {
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, 640, 360);
    ctx.fillStyle = 'rgba(0,0,0,0.35)';
    if (kind === 'screen') {
      // a slide: a title bar and lines of text
      ctx.fillRect(40, 36, 420, 40);
      for (let i = 0; i < 5; i++) ctx.fillRect(40, 110 + i * 44, 560 - (i % 2) * 140, 16);
    } else {
      // a head and shoulders
      ctx.beginPath();
      ctx.arc(320, 150, 62, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillRect(220, 230, 200, 130);
    }
    // centred at the bottom: what a tall tile crops off the sides keeps it
    ctx.fillStyle = '#ffffff';
    ctx.font = '600 26px sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText(label, 320, 336);
  };
  paint();
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = canvas.captureStream();
  await video.play();
  // a canvas stream sends a frame when the canvas is painted: paint until one is decoded
  while (!hasFrame(video)) {
    paint();
    await new Promise((r) => setTimeout(r, 20));
  }
  return video;
}

async function view(p: PreviewParticipant, at: number): Promise<ParticipantView> {
  return {
    identity: p.identity,
    name: p.name,
    joinedAt: at,
    camera: p.camera ? await syntheticVideo(p.camera, p.name, 'camera') : undefined,
    cameraMuted: !p.camera,
    screen: p.screen ? await syntheticVideo(p.screen, `${p.name}'s screen`, 'screen') : undefined,
    audio: true,
    speaking: p.speaking,
    spokeAt: p.speaking ? at : undefined,
  };
}

async function render(query: string): Promise<string> {
  const request = parsePreviewQuery(query);
  const size = { width: request.width, height: request.height };
  const [views, overlays] = await Promise.all([
    Promise.all(previewParticipants(request).map((p, i) => view(p, i))),
    request.overlays ? OverlayPainter.load(request.overlays, size) : undefined,
  ]);
  // the compositor draws its first frame when it is made
  const compositor = new Compositor({ ...size, fps: 30, layout: request.layout, theme: THEMES[request.theme], overlays }, () => views, () => undefined);
  compositor.stop();
  for (const v of views) for (const el of [v.camera, v.screen]) (el?.srcObject as MediaStream | null)?.getTracks().forEach((t) => t.stop());
  compositor.track.stop();
  return compositor.canvas.toDataURL('image/png');
}

window.preview = { render };
