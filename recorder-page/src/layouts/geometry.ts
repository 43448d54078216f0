/** Rectangles for layouts: pure arithmetic, no DOM. */

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * The columns x rows split of `count` equal tiles that makes each tile largest while
 * keeping `aspect`: tries every column count and keeps the best, so a tall canvas gets
 * fewer columns and more rows than a wide one. With `minAspect` below `aspect` a tile may
 * be narrower, down to that, where its cell is (cameras are cropped to fill their tile).
 */
export function bestGrid(
  count: number,
  width: number,
  height: number,
  aspect: number,
  gap: number,
  minAspect = aspect,
): { cols: number; rows: number; tileW: number; tileH: number } {
  let best = { cols: 1, rows: 1, tileW: 0, tileH: 0 };
  for (let cols = 1; cols <= Math.max(1, count); cols++) {
    const rows = Math.ceil(count / cols);
    const cellW = (width - gap * (cols + 1)) / cols;
    const cellH = (height - gap * (rows + 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    const shape = Math.min(aspect, Math.max(minAspect, cellW / cellH));
    const tileW = Math.min(cellW, cellH * shape);
    const tileH = tileW / shape;
    if (tileW * tileH > best.tileW * best.tileH) best = { cols, rows, tileW, tileH };
  }
  return best;
}

/** Lays `count` equal tiles in `area`, centred, the last row centred too (`minAspect`: see bestGrid). */
export function gridRects(count: number, area: Rect, aspect: number, gap: number, minAspect = aspect): Rect[] {
  if (count <= 0) return [];
  const { cols, rows, tileW, tileH } = bestGrid(count, area.w, area.h, aspect, gap, minAspect);
  const rects: Rect[] = [];
  const totalH = rows * tileH + (rows - 1) * gap;
  const top = area.y + (area.h - totalH) / 2;
  for (let i = 0; i < count; i++) {
    const row = Math.floor(i / cols);
    const inRow = row === rows - 1 ? count - cols * (rows - 1) : cols;
    const rowW = inRow * tileW + (inRow - 1) * gap;
    const left = area.x + (area.w - rowW) / 2;
    const col = i - row * cols;
    rects.push(roundRect({ x: left + col * (tileW + gap), y: top + row * (tileH + gap), w: tileW, h: tileH }));
  }
  return rects;
}

/** `count` equal tiles in one column or one row of `area`, centred, as large as fit. */
export function lineRects(count: number, area: Rect, aspect: number, gap: number, direction: 'column' | 'row'): Rect[] {
  if (count <= 0) return [];
  const tileW =
    direction === 'column'
      ? Math.min(area.w - 2 * gap, ((area.h - gap * (count + 1)) / count) * aspect)
      : Math.min((area.h - 2 * gap) * aspect, (area.w - gap * (count + 1)) / count);
  const tileH = tileW / aspect;
  const along = count * (direction === 'column' ? tileH : tileW) + (count - 1) * gap;
  const top = area.y + (direction === 'column' ? (area.h - along) / 2 : (area.h - tileH) / 2);
  const left = area.x + (direction === 'column' ? (area.w - tileW) / 2 : (area.w - along) / 2);
  const step = (direction === 'column' ? tileH : tileW) + gap;
  return Array.from({ length: count }, (_, i) =>
    roundRect(direction === 'column' ? { x: left, y: top + i * step, w: tileW, h: tileH } : { x: left + i * step, y: top, w: tileW, h: tileH }),
  );
}

/** `area` less `gap` on every side: a tile that fills it, whatever its shape. */
export function inset(area: Rect, gap: number): Rect {
  return roundRect({ x: area.x + gap, y: area.y + gap, w: area.w - 2 * gap, h: area.h - 2 * gap });
}

function roundRect(r: Rect): Rect {
  const x = Math.round(r.x);
  const y = Math.round(r.y);
  return { x, y, w: Math.round(r.x + r.w) - x, h: Math.round(r.y + r.h) - y };
}
