import { DEFAULT_LAYOUT_OPTIONS, layoutFunction, type LayoutFn, type LayoutName, type Theme, type Tile } from './layouts';
import { FrameClock } from './frame-clock';
import { frameSink, type FrameSink } from './frame-sink';
import type { OverlayPainter } from './overlays';
import { hasFrame, type ParticipantView } from './room';

export interface CompositorOptions {
  width: number;
  height: number;
  fps: number;
  /** A built-in layout; the constructor throws for any other. */
  layout: LayoutName;
  /** Read on every frame: a new object changes the picture from the next frame. */
  theme: Theme;
  /** The canvas colour behind the tiles, instead of the theme's. */
  background?: string;
  /** Watermarks, labels, clock and background (overlays.ts), already loaded. */
  overlays?: OverlayPainter;
}

// created when the page loads: starting a Worker can take hundreds of milliseconds
const frameClock = new FrameClock();

/**
 * Draws the layout on a canvas at a fixed frame rate. Frames are pushed to the video
 * track explicitly (frame-sink.ts) from a Worker clock, because a capped
 * captureStream(fps) with a main-thread timer drops frames under load.
 */
export class Compositor {
  readonly canvas: HTMLCanvasElement;
  private readonly sink: FrameSink;
  private readonly ctx: CanvasRenderingContext2D;
  private layout: LayoutFn;
  private tiles: Tile[] = [];
  private framesDrawn = 0;
  private frameTimes: number[] = [];
  private lastFrameAt?: number;
  private maxFrameGap = 0;
  private lateFrames = 0;
  private readonly seen = new Set<string>();
  /** Called the first time a participant's video is drawn (for latency logs). */
  onFirstVideo?: (identity: string) => void;

  constructor(
    private opts: CompositorOptions,
    private readonly participants: () => ParticipantView[],
    private readonly onTiles: (tiles: Tile[]) => void,
  ) {
    this.layout = layoutFunction(opts.layout);
    this.canvas = document.createElement('canvas');
    this.canvas.width = opts.width;
    this.canvas.height = opts.height;
    // kept out of the document: a canvas on the page would be composited 30 times a second for nobody
    const ctx = this.canvas.getContext('2d', { alpha: false, willReadFrequently: true });
    if (!ctx) throw new Error('2d canvas context unavailable');
    this.ctx = ctx;
    this.sink = frameSink(this.canvas);
    this.relayout();
    this.draw();
  }

  /** A live change of layout, theme and overlays: each is read every frame, so the next frame shows it. */
  restyle(style: { layout: LayoutName; theme: Theme; overlays?: OverlayPainter | undefined }): void {
    this.layout = layoutFunction(style.layout);
    this.opts = { ...this.opts, ...style };
    this.relayout();
  }

  /** Called whenever participants or their tracks change. */
  relayout(): void {
    const people = this.participants();
    this.tiles = this.layout(
      people.map((p) => ({ identity: p.identity, screenShare: Boolean(p.screen), speaking: p.speaking, spokeAt: p.spokeAt })),
      this.opts.width,
      this.opts.height,
      DEFAULT_LAYOUT_OPTIONS,
    );
    this.onTiles(this.tiles);
  }

  get track(): MediaStreamTrack {
    return this.sink.track;
  }

  start(): void {
    // the first frame goes out now: the encoder emits nothing until it has one
    this.frame();
    const period = 1000 / this.opts.fps;
    frameClock.start(period, (lateMs) => {
      if (lateMs >= period) this.lateFrames++;
      this.frame();
    });
  }

  stop(): void {
    frameClock.stop();
  }

  /** Frames per second over the last two seconds. */
  fps(): number {
    const now = performance.now();
    this.frameTimes = this.frameTimes.filter((t) => now - t < 2000);
    return this.frameTimes.length / 2;
  }

  get frames(): number {
    return this.framesDrawn;
  }

  /** Since start(): frames drawn a frame period or more after their turn, and frames the encoder's track had no room for. */
  get framesLate(): number {
    return this.lateFrames;
  }

  get framesDropped(): number {
    return this.sink.dropped;
  }

  /** The longest wait between two frames since the last call (a stalled frame clock freezes the picture). */
  takeMaxFrameGap(): number {
    const gap = this.maxFrameGap;
    this.maxFrameGap = 0;
    return Math.round(gap);
  }

  private frame(): void {
    this.draw();
    this.sink.push();
    this.framesDrawn++;
    const now = performance.now();
    if (this.lastFrameAt !== undefined) this.maxFrameGap = Math.max(this.maxFrameGap, now - this.lastFrameAt);
    this.lastFrameAt = now;
    this.frameTimes.push(now);
  }

  private draw(): void {
    const { ctx } = this;
    const { theme, overlays } = this.opts;
    if (!overlays?.background(ctx)) {
      ctx.fillStyle = this.opts.background ?? theme.background;
      ctx.fillRect(0, 0, this.opts.width, this.opts.height);
    }
    const byId = new Map(this.participants().map((p) => [p.identity, p]));
    // the border tells who of several speaks: on a canvas of one camera it would only frame it
    const cameras = this.tiles.filter((t) => t.kind === 'camera').length;
    for (const tile of this.tiles) {
      const p = byId.get(tile.identity);
      if (!p) continue;
      if (tile.kind === 'screen' && p.screen && hasFrame(p.screen)) {
        drawVideo(ctx, p.screen, tile, theme.screenBackdrop);
      } else if (tile.kind === 'camera' && p.camera && !p.cameraMuted && hasFrame(p.camera)) {
        drawVideo(ctx, p.camera, tile);
        if (overlays?.nameLabels) overlays.label(ctx, tile, p.name);
        if (!this.seen.has(p.identity)) {
          this.seen.add(p.identity);
          this.onFirstVideo?.(p.identity);
        }
      } else {
        drawNameTile(ctx, p, tile, theme);
      }
      if (p.speaking && tile.kind === 'camera' && cameras > 1) {
        ctx.strokeStyle = theme.speakingBorder;
        ctx.lineWidth = 4;
        ctx.strokeRect(tile.x + 2, tile.y + 2, tile.w - 4, tile.h - 4);
      }
    }
    overlays?.front(ctx);
  }
}

/** Without `letterbox` the picture is cropped to fill the tile; with it, shown whole on that colour. */
function drawVideo(ctx: CanvasRenderingContext2D, v: HTMLVideoElement, t: Tile, letterbox?: string): void {
  const vr = v.videoWidth / v.videoHeight;
  const tr = t.w / t.h;
  if (letterbox === undefined) {
    // crop the source so it fills the tile without distortion
    let sw = v.videoWidth;
    let sh = v.videoHeight;
    if (vr > tr) sw = sh * tr;
    else sh = sw / tr;
    ctx.drawImage(v, (v.videoWidth - sw) / 2, (v.videoHeight - sh) / 2, sw, sh, t.x, t.y, t.w, t.h);
  } else {
    ctx.fillStyle = letterbox;
    ctx.fillRect(t.x, t.y, t.w, t.h);
    let w = t.w;
    let h = t.h;
    if (vr > tr) h = w / vr;
    else w = h * vr;
    ctx.drawImage(v, t.x + (t.w - w) / 2, t.y + (t.h - h) / 2, w, h);
  }
}

function drawNameTile(ctx: CanvasRenderingContext2D, p: ParticipantView, t: Tile, theme: Theme): void {
  ctx.fillStyle = theme.nameTile;
  ctx.fillRect(t.x, t.y, t.w, t.h);
  const r = Math.min(t.w, t.h) * 0.18;
  const cx = t.x + t.w / 2;
  const cy = t.y + t.h / 2 - r * 0.35;
  ctx.fillStyle = theme.avatarColours[hash(p.identity) % theme.avatarColours.length];
  ctx.beginPath();
  ctx.arc(cx, cy, r, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = theme.avatarText;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.font = `600 ${Math.round(r * 0.9)}px sans-serif`;
  ctx.fillText(initials(p.name), cx, cy);
  ctx.fillStyle = theme.nameText;
  ctx.font = `${Math.max(12, Math.round(t.h * 0.07))}px sans-serif`;
  ctx.fillText(p.name, cx, Math.min(t.y + t.h - 12, cy + r + t.h * 0.1), t.w - 16);
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return (parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : name.slice(0, 2)).toUpperCase();
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}
