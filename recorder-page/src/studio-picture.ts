import { Compositor } from './compositor';
import { THEMES } from './layouts';
import { OverlayPainter } from './overlays';
import { previewParticipants, type PreviewRequest } from './preview-scene';
import { stopVideo, syntheticVideo, syntheticView } from './synthetic-scene';

/**
 * The studio's live picture: the recorder's compositor, on a canvas in the page, drawing the
 * synthetic participants of the latest settings. Each change draws a new compositor (a size
 * is fixed when one is made); the participants' videos are kept for the next picture, so a
 * change shows within a frame or two. The clock overlay ticks: the compositor runs at a few
 * frames a second.
 */
const FPS = 4;

export class StudioPicture {
  private compositor?: Compositor;
  private readonly videos = new Map<string, Promise<HTMLVideoElement>>();
  private wanted?: PreviewRequest;
  private drawing = false;
  /** How many pictures were drawn (the tests wait on it). */
  drawn = 0;

  constructor(private readonly host: HTMLElement) {}

  /** Draws `request` as soon as the picture being drawn is done; only the latest request is drawn. */
  show(request: PreviewRequest): void {
    this.wanted = request;
    this.host.dataset.state = 'drawing';
    if (!this.drawing) void this.drawLatest();
  }

  private async drawLatest(): Promise<void> {
    this.drawing = true;
    while (this.wanted) {
      const request = this.wanted;
      this.wanted = undefined;
      try {
        await this.draw(request);
        // ready only once the latest settings are drawn
        if (!this.wanted) this.host.dataset.state = 'ready';
        this.host.removeAttribute('title');
      } catch (err) {
        // settings the compositor cannot draw (the API says why next to the control): the last picture stays
        this.host.dataset.state = 'failed';
        this.host.title = (err as Error).message;
      }
    }
    this.drawing = false;
  }

  private async draw(r: PreviewRequest): Promise<void> {
    const size = { width: r.width, height: r.height };
    const [views, overlays] = await Promise.all([
      // with name labels on, the camera pictures go without the name they carry otherwise: one name a tile
      Promise.all(previewParticipants(r).map((p, i) => syntheticView(p, i, (colour, label, kind) => this.video(colour, r.overlays?.nameLabels && kind === 'camera' ? '' : label, kind)))),
      r.overlays ? OverlayPainter.load(r.overlays, size) : undefined,
    ]);
    const next = new Compositor({ ...size, fps: FPS, layout: r.layout, theme: THEMES[r.theme], overlays }, () => views, () => undefined);
    this.compositor?.stop();
    this.compositor?.track.stop();
    this.compositor?.canvas.remove();
    this.compositor = next;
    next.canvas.setAttribute('aria-label', `${r.layout} layout, ${r.theme} theme, ${r.width} by ${r.height}`);
    this.host.style.setProperty('--aspect', `${r.width} / ${r.height}`);
    this.host.classList.toggle('portrait', r.height > r.width);
    this.host.replaceChildren(next.canvas);
    next.start();
    this.drawn++;
  }

  private video(colour: string, label: string, kind: 'camera' | 'screen'): Promise<HTMLVideoElement> {
    const key = `${kind}|${colour}|${label}`;
    // at most 25 cameras (twice: with and without their name) and 25 shares
    let v = this.videos.get(key);
    if (!v) {
      v = syntheticVideo(colour, label, kind);
      this.videos.set(key, v);
    }
    return v;
  }
}
