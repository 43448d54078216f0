import type { PreviewParticipant } from './preview-scene';
import { hasFrame, type ParticipantView } from './room';

/**
 * The synthetic participants of a preview (preview-scene.ts) as the compositor sees a call's:
 * each camera and share a real <video> playing a canvas stream, so the compositor draws
 * exactly what it draws in a call. Shared by the preview page (`recorder preview-layout`) and
 * the layout studio, which keeps the videos it made for the next picture.
 */

/** A <video> showing a still picture: `colour`, with a few bars that say what it is. */
export async function syntheticVideo(colour: string, label: string, kind: 'camera' | 'screen'): Promise<HTMLVideoElement> {
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

export type VideoSource = (colour: string, label: string, kind: 'camera' | 'screen') => Promise<HTMLVideoElement>;

/** A participant as the room would report them; `at` orders who joined and spoke first. */
export async function syntheticView(p: PreviewParticipant, at: number, video: VideoSource = syntheticVideo): Promise<ParticipantView> {
  return {
    identity: p.identity,
    name: p.name,
    joinedAt: at,
    camera: p.camera ? await video(p.camera, p.name, 'camera') : undefined,
    cameraMuted: !p.camera,
    screen: p.screen ? await video(p.screen, `${p.name}'s screen`, 'screen') : undefined,
    audio: true,
    speaking: p.speaking,
    spokeAt: p.speaking ? at : undefined,
  };
}

/** Ends the canvas streams behind a video. */
export function stopVideo(video: HTMLVideoElement | undefined): void {
  (video?.srcObject as MediaStream | null | undefined)?.getTracks().forEach((t) => t.stop());
}
