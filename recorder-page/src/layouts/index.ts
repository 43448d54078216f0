import { isLayoutName, LAYOUT_NAMES, type LayoutName } from './names';

/**
 * Layouts are pure functions: (participants, canvas size, options) -> tiles.
 * They know nothing of the DOM, so they run in the page and in jest alike.
 */

export { DEFAULT_LAYOUT, isLayoutName, LAYOUT_NAMES, type LayoutName } from './names';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LayoutParticipant {
  identity: string;
  /** True while this participant shares a screen; the share gets a tile of its own. */
  screenShare: boolean;
  speaking: boolean;
  /** When they last spoke (any clock that only goes up); absent: not yet. */
  spokeAt?: number;
}

export interface Tile extends Rect {
  identity: string;
  /** 'camera' tiles draw the camera (or the name tile); 'screen' tiles draw the share. */
  kind: 'camera' | 'screen';
}

export interface LayoutOptions {
  /** Pixels between tiles and around the edge. */
  gap: number;
  /** Width / height the tiles should keep, 16:9 for cameras. */
  aspect: number;
}

export const DEFAULT_LAYOUT_OPTIONS: LayoutOptions = { gap: 8, aspect: 16 / 9 };

export type LayoutFn = (participants: LayoutParticipant[], width: number, height: number, options?: LayoutOptions) => Tile[];

/**
 * The columns x rows split of `count` equal tiles that makes each tile largest while
 * keeping `aspect`: tries every column count and keeps the best.
 */
export function bestGrid(count: number, width: number, height: number, aspect: number, gap: number): { cols: number; rows: number; tileW: number; tileH: number } {
  let best = { cols: 1, rows: 1, tileW: 0, tileH: 0 };
  for (let cols = 1; cols <= Math.max(1, count); cols++) {
    const rows = Math.ceil(count / cols);
    const cellW = (width - gap * (cols + 1)) / cols;
    const cellH = (height - gap * (rows + 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    const tileW = Math.min(cellW, cellH * aspect);
    const tileH = tileW / aspect;
    if (tileW * tileH > best.tileW * best.tileH) best = { cols, rows, tileW, tileH };
  }
  return best;
}

/** Lays `count` equal tiles in `area`, centred, the last row centred too. */
export function gridRects(count: number, area: Rect, aspect: number, gap: number): Rect[] {
  if (count <= 0) return [];
  const { cols, rows, tileW, tileH } = bestGrid(count, area.w, area.h, aspect, gap);
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

function roundRect(r: Rect): Rect {
  const x = Math.round(r.x);
  const y = Math.round(r.y);
  return { x, y, w: Math.round(r.x + r.w) - x, h: Math.round(r.y + r.h) - y };
}

/** A big stage for `main` and a strip of small tiles on the right for the rest. */
function stageWithStrip(main: Pick<Tile, 'identity' | 'kind'>, others: LayoutParticipant[], width: number, height: number, o: LayoutOptions): Tile[] {
  const area: Rect = { x: 0, y: 0, w: width, h: height };
  if (others.length === 0) {
    const [rect] = gridRects(1, area, o.aspect, o.gap);
    return [{ ...rect, ...main }];
  }
  const stripW = Math.round(width * 0.2);
  const stage: Rect = { x: 0, y: 0, w: width - stripW + o.gap / 2, h: height };
  const strip: Rect = { x: width - stripW - o.gap / 2, y: 0, w: stripW + o.gap / 2, h: height };
  const [stageRect] = gridRects(1, stage, o.aspect, o.gap);
  const stripRects = stackRects(others.length, strip, o.aspect, o.gap);
  return [
    { ...stageRect, ...main },
    ...others.map((p, i) => ({ ...stripRects[i], identity: p.identity, kind: 'camera' as const })),
  ];
}

function stackRects(count: number, area: Rect, aspect: number, gap: number): Rect[] {
  const tileW = Math.min(area.w - 2 * gap, ((area.h - gap * (count + 1)) / count) * aspect);
  const tileH = tileW / aspect;
  const totalH = count * tileH + (count - 1) * gap;
  const top = area.y + (area.h - totalH) / 2;
  const left = area.x + (area.w - tileW) / 2;
  return Array.from({ length: count }, (_, i) => roundRect({ x: left, y: top + i * (tileH + gap), w: tileW, h: tileH }));
}

/** Everyone equal; a screen share, when there is one, takes the stage and cameras go to the strip. */
export const grid: LayoutFn = (participants, width, height, o = DEFAULT_LAYOUT_OPTIONS) => {
  const sharer = participants.find((p) => p.screenShare);
  if (sharer) return stageWithStrip({ identity: sharer.identity, kind: 'screen' }, participants, width, height, o);
  const rects = gridRects(participants.length, { x: 0, y: 0, w: width, h: height }, o.aspect, o.gap);
  return participants.map((p, i) => ({ ...rects[i], identity: p.identity, kind: 'camera' as const }));
};

/**
 * Who takes the stage: whoever speaks now, else whoever spoke last (a pause between words
 * does not send the picture back to the first participant), else the first. Not empty.
 */
function stageParticipant(participants: LayoutParticipant[]): LayoutParticipant {
  let last: LayoutParticipant | undefined;
  for (const p of participants) {
    if (p.speaking) return p;
    if (p.spokeAt !== undefined && (last?.spokeAt === undefined || p.spokeAt > last.spokeAt)) last = p;
  }
  return last ?? participants[0];
}

/** The active speaker (or a screen share) on the stage, everyone else in the strip. */
export const speaker: LayoutFn = (participants, width, height, o = DEFAULT_LAYOUT_OPTIONS) => {
  if (participants.length === 0) return [];
  const sharer = participants.find((p) => p.screenShare);
  if (sharer) return stageWithStrip({ identity: sharer.identity, kind: 'screen' }, participants, width, height, o);
  const main = stageParticipant(participants);
  return stageWithStrip({ identity: main.identity, kind: 'camera' }, participants.filter((p) => p !== main), width, height, o);
};

/** Only the screen share, else the active speaker, else the first participant. */
export const single: LayoutFn = (participants, width, height, o = DEFAULT_LAYOUT_OPTIONS) => {
  if (participants.length === 0) return [];
  const sharer = participants.find((p) => p.screenShare);
  const main = sharer ?? stageParticipant(participants);
  const [rect] = gridRects(1, { x: 0, y: 0, w: width, h: height }, o.aspect, o.gap);
  return [{ ...rect, identity: main.identity, kind: sharer ? 'screen' : 'camera' }];
};

const LAYOUT_FUNCTIONS: Record<LayoutName, LayoutFn> = { grid, speaker, single };

/** The function of a built-in layout; throws for a name that is not one (no silent fallback to grid). */
export function layoutFunction(name: string): LayoutFn {
  if (!isLayoutName(name)) throw new Error(`unknown layout "${name}": use one of ${LAYOUT_NAMES.join(', ')}`);
  return LAYOUT_FUNCTIONS[name];
}
