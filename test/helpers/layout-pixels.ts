import { layoutFunction, THEMES, type Tile } from '../../recorder-page/src/layouts';
import { PREVIEW_SCREEN_COLOUR, previewParticipants, type PreviewRequest } from '../../recorder-page/src/preview-scene';
import { hexToRgb } from './media';

/**
 * Where a picture of synthetic participants (preview-scene.ts) must show what: each tile the
 * layout function gives, at a point clear of the picture's drawings. Shared by the checks of
 * `recorder preview-layout`'s PNGs and of the layout studio's canvas.
 */
export function expectedPixels(r: PreviewRequest): { tile: Tile; x: number; y: number; colour: string }[] {
  const people = previewParticipants(r);
  const tiles = layoutFunction(r.layout)(
    people.map((p) => ({ identity: p.identity, screenShare: Boolean(p.screen), speaking: p.speaking })),
    r.width,
    r.height,
  );
  return tiles.map((tile) => {
    const p = people.find((q) => q.identity === tile.identity)!;
    // a camera at a corner of its picture; a share and a name tile at their middle
    if (tile.kind === 'screen') return { tile, x: tile.x + tile.w / 2, y: tile.y + tile.h / 2, colour: PREVIEW_SCREEN_COLOUR };
    if (!p.camera) return { tile, x: tile.x + tile.w * 0.1, y: tile.y + tile.h * 0.1, colour: THEMES[r.theme].nameTile };
    return { tile, x: tile.x + tile.w * 0.15, y: tile.y + tile.h * 0.15, colour: p.camera };
  });
}

/** Two colours within a few levels of each other (a picture's compression or blending). */
export const closeColours = (a: string, b: string, tolerance = 12) => hexToRgb(a).reduce((d, v, i) => d + Math.abs(v - hexToRgb(b)[i]), 0) <= tolerance;
