import type { Tile } from './layouts';
import type { OverlayPosition, PageOverlays } from './overlay-spec';

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Draws one set of overlays. Made with load(), which decodes every image before the first
 * frame that shows them (a live change swaps painters once the new one is loaded), and
 * scales the background once, so each frame only copies pixels.
 */
export class OverlayPainter {
  private clockText = '';
  private clockSecond = -1;
  private readonly clockFormat?: Intl.DateTimeFormat;

  private constructor(
    private readonly spec: PageOverlays,
    private readonly size: { width: number; height: number },
    private readonly watermark?: ImageBitmap,
    private readonly backdrop?: ImageBitmap,
  ) {
    if (spec.clock) this.clockFormat = new Intl.DateTimeFormat('en-GB', { timeZone: spec.clock.timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  }

  static async load(spec: PageOverlays, size: { width: number; height: number }): Promise<OverlayPainter> {
    const bg = spec.background && 'imageUrl' in spec.background ? spec.background.imageUrl : undefined;
    const [watermark, backdrop] = await Promise.all([
      spec.imageWatermark ? decode(spec.imageWatermark.url) : undefined,
      bg ? decode(bg).then((img) => cover(img, size)) : undefined,
    ]);
    return new OverlayPainter(spec, size, watermark, backdrop);
  }

  /** Paints the canvas behind the tiles; false when these overlays have no background. */
  background(ctx: CanvasRenderingContext2D): boolean {
    const bg = this.spec.background;
    if (!bg) return false;
    if (this.backdrop) ctx.drawImage(this.backdrop, 0, 0);
    else if ('colour' in bg) {
      ctx.fillStyle = bg.colour;
      ctx.fillRect(0, 0, this.size.width, this.size.height);
    } else return false;
    return true;
  }

  /** Whether camera tiles get a name label (a tile without video shows the name anyway). */
  get nameLabels(): boolean {
    return this.spec.nameLabels === true;
  }

  /** The participant's name at the bottom left of a camera tile, on a dark band. */
  label(ctx: CanvasRenderingContext2D, tile: Tile, name: string): void {
    const px = Math.max(14, Math.round(Math.min(tile.h * 0.075, this.size.height * 0.04)));
    ctx.font = `600 ${px}px sans-serif`;
    const pad = Math.round(px * 0.4);
    const w = Math.min(ctx.measureText(name).width + pad * 2, tile.w - pad * 2);
    ctx.fillStyle = 'rgba(0, 0, 0, 0.55)';
    ctx.fillRect(tile.x + pad, tile.y + tile.h - px - pad * 3, w, px + pad * 2);
    ctx.fillStyle = '#ffffff';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText(name, tile.x + pad * 2, tile.y + tile.h - pad * 2 - px / 2, w - pad * 2);
  }

  /** Watermarks and the clock, over everything. */
  front(ctx: CanvasRenderingContext2D, now = Date.now()): void {
    const { textWatermark: text, imageWatermark: image, clock } = this.spec;
    if (image && this.watermark) {
      const w = Math.round(this.size.width * image.size);
      const h = Math.round((w * this.watermark.height) / this.watermark.width);
      const at = this.place(image.position, w, h);
      ctx.globalAlpha = image.opacity;
      ctx.drawImage(this.watermark, at.x, at.y, w, h);
      ctx.globalAlpha = 1;
    }
    if (text) {
      const px = Math.max(8, Math.round(this.size.height * text.size));
      ctx.font = `600 ${px}px sans-serif`;
      const at = this.place(text.position, ctx.measureText(text.text).width, px);
      ctx.globalAlpha = text.opacity;
      ctx.fillStyle = text.colour;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      ctx.fillText(text.text, at.x, at.y);
      ctx.globalAlpha = 1;
    }
    if (clock && this.clockFormat) this.drawClock(ctx, clock.position, now);
  }

  private drawClock(ctx: CanvasRenderingContext2D, position: OverlayPosition, now: number): void {
    const second = Math.floor(now / 1000);
    if (second !== this.clockSecond) {
      this.clockSecond = second;
      this.clockText = this.clockFormat!.format(now);
    }
    const px = Math.max(10, Math.round(this.size.height * 0.035));
    ctx.font = `600 ${px}px monospace`;
    const pad = Math.round(px * 0.35);
    const box = this.place(position, ctx.measureText(this.clockText).width + pad * 2, px + pad * 2);
    ctx.fillStyle = 'rgba(0, 0, 0, 0.55)';
    ctx.fillRect(box.x, box.y, box.w, box.h);
    ctx.fillStyle = '#ffffff';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText(this.clockText, box.x + pad, box.y + box.h / 2);
  }

  /** A w x h box at `position`, a margin in from the canvas edges. */
  private place(position: OverlayPosition, w: number, h: number): Box {
    const { width, height } = this.size;
    const m = Math.round(Math.min(width, height) * 0.03);
    const x = position === 'center' ? (width - w) / 2 : position.endsWith('left') ? m : width - m - w;
    const y = position === 'center' ? (height - h) / 2 : position.startsWith('top') ? m : height - m - h;
    return { x: Math.round(x), y: Math.round(y), w: Math.round(w), h: Math.round(h) };
  }
}

async function decode(dataUrl: string): Promise<ImageBitmap> {
  const img = new Image();
  img.src = dataUrl;
  await img.decode();
  return createImageBitmap(img);
}

/** `img` scaled and cropped to cover the canvas, once. */
async function cover(img: ImageBitmap, size: { width: number; height: number }): Promise<ImageBitmap> {
  const scale = Math.max(size.width / img.width, size.height / img.height);
  const sw = size.width / scale;
  const sh = size.height / scale;
  const scaled = await createImageBitmap(img, (img.width - sw) / 2, (img.height - sh) / 2, sw, sh, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
  img.close();
  return scaled;
}
