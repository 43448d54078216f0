import { gridRects, inset, lineRects, type Rect } from './geometry';
import { DEFAULT_THEME, isThemeName, LAYOUT_RULE, parseLayout, THEME_NAMES, type LayoutName, type ThemeName } from './names';

/**
 * Layouts are pure functions: (participants, canvas size, options) -> tiles.
 * They know nothing of the DOM, so they run in the page and in jest alike.
 */

export { bestGrid, gridRects, type Rect } from './geometry';
export * from './names';
export { THEMES, type Theme } from './themes';

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

type Stage = Pick<Tile, 'identity' | 'kind'>;

/** Share of a landscape canvas's width a strip on the right takes. */
const COLUMN_STRIP_SHARE = 0.2;
/** Share of a landscape canvas's height a strip below takes: still six 16:9 cameras across, and a wider stage than the column leaves. */
const ROW_STRIP_SHARE = 0.16;
/** Share of a portrait canvas's height a camera's stage takes (a share's: its 16:9 at full width); the strip gets the rest. */
const PORTRAIT_STAGE_SHARE = 0.6;

/** On a tall canvas camera tiles may be as narrow as square: a column of thin 16:9 tiles would leave its sides empty. */
const PORTRAIT_MIN_ASPECT = 1;

const portrait = (width: number, height: number) => height > width;
/** The narrowest a camera tile of a grid may be on this canvas. */
const minAspect = (width: number, height: number, o: LayoutOptions) => (portrait(width, height) ? Math.min(PORTRAIT_MIN_ASPECT, o.aspect) : o.aspect);

/** The one tile of a layout that shows one thing: 16:9 on a wide canvas, the whole canvas on a tall one. */
function soloTile(main: Stage, width: number, height: number, o: LayoutOptions): Tile {
  const area: Rect = { x: 0, y: 0, w: width, h: height };
  const rect = portrait(width, height) ? inset(area, o.gap) : gridRects(1, area, o.aspect, o.gap)[0];
  return { ...rect, ...main };
}

/**
 * A big stage for `main` and a strip of small tiles for `others`: on a wide canvas the strip
 * is a column on the right, or a row below for `landscapeStrip: 'row'`; on a tall canvas the
 * stage is on top and the others share the space below it as a grid.
 */
function stageWithStrip(main: Stage, others: LayoutParticipant[], width: number, height: number, o: LayoutOptions, landscapeStrip: 'column' | 'row'): Tile[] {
  if (others.length === 0) return [soloTile(main, width, height, o)];
  let stage: Rect;
  let strip: Rect[];
  if (portrait(width, height)) {
    // a share keeps its own shape (a letterbox would waste the height); a camera is cropped to fill
    const shareH = Math.round(width / o.aspect + o.gap);
    const stageH = Math.round(main.kind === 'screen' ? Math.min(shareH, height * PORTRAIT_STAGE_SHARE) : height * PORTRAIT_STAGE_SHARE);
    stage = inset({ x: 0, y: 0, w: width, h: stageH + o.gap / 2 }, o.gap);
    strip = gridRects(others.length, { x: 0, y: stageH - o.gap / 2, w: width, h: height - stageH + o.gap / 2 }, o.aspect, o.gap, minAspect(width, height, o));
  } else if (landscapeStrip === 'column') {
    const stripW = Math.round(width * COLUMN_STRIP_SHARE);
    [stage] = gridRects(1, { x: 0, y: 0, w: width - stripW + o.gap / 2, h: height }, o.aspect, o.gap);
    strip = lineRects(others.length, { x: width - stripW - o.gap / 2, y: 0, w: stripW + o.gap / 2, h: height }, o.aspect, o.gap, 'column');
  } else {
    const stripH = Math.round(height * ROW_STRIP_SHARE);
    [stage] = gridRects(1, { x: 0, y: 0, w: width, h: height - stripH + o.gap / 2 }, o.aspect, o.gap);
    strip = lineRects(others.length, { x: 0, y: height - stripH - o.gap / 2, w: width, h: stripH + o.gap / 2 }, o.aspect, o.gap, 'row');
  }
  return [{ ...stage, ...main }, ...others.map((p, i) => ({ ...strip[i], identity: p.identity, kind: 'camera' as const }))];
}

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

/** The screen share on the stage and every camera in the strip, or the active speaker on the stage and the rest in the strip. */
function speakerOrShare(participants: LayoutParticipant[], width: number, height: number, o: LayoutOptions, landscapeStrip: 'column' | 'row'): Tile[] {
  if (participants.length === 0) return [];
  const sharer = participants.find((p) => p.screenShare);
  if (sharer) return stageWithStrip({ identity: sharer.identity, kind: 'screen' }, participants, width, height, o, landscapeStrip);
  const main = stageParticipant(participants);
  return stageWithStrip({ identity: main.identity, kind: 'camera' }, participants.filter((p) => p !== main), width, height, o, landscapeStrip);
}

/** Everyone equal; while someone shares a screen it is the speaker layout (as in Egress). */
export const grid: LayoutFn = (participants, width, height, o = DEFAULT_LAYOUT_OPTIONS) => {
  if (participants.some((p) => p.screenShare)) return speaker(participants, width, height, o);
  const rects = gridRects(participants.length, { x: 0, y: 0, w: width, h: height }, o.aspect, o.gap, minAspect(width, height, o));
  return participants.map((p, i) => ({ ...rects[i], identity: p.identity, kind: 'camera' as const }));
};

/** The active speaker (or a screen share) on the stage, everyone else in a strip on the right (below on a tall canvas). */
export const speaker: LayoutFn = (participants, width, height, o = DEFAULT_LAYOUT_OPTIONS) => speakerOrShare(participants, width, height, o, 'column');

/**
 * For talks: the screen share on a stage as wide as the canvas, the cameras in a row beneath
 * it. Nobody sharing: the active speaker takes that stage, as in speaker (Egress has no
 * presentation layout; its users pick speaker for this), so a share starting or ending only
 * changes what the stage shows.
 */
export const presentation: LayoutFn = (participants, width, height, o = DEFAULT_LAYOUT_OPTIONS) => speakerOrShare(participants, width, height, o, 'row');

/** Only the screen share, else the active speaker, else the first participant. */
export const singleSpeaker: LayoutFn = (participants, width, height, o = DEFAULT_LAYOUT_OPTIONS) => {
  if (participants.length === 0) return [];
  const sharer = participants.find((p) => p.screenShare);
  const main = sharer ?? stageParticipant(participants);
  return [soloTile({ identity: main.identity, kind: sharer ? 'screen' : 'camera' }, width, height, o)];
};

const LAYOUT_FUNCTIONS: Record<LayoutName, LayoutFn> = { grid, speaker, 'single-speaker': singleSpeaker, presentation };

/** The function of a built-in layout's spelling (`single`, `grid-light`); throws for any other (no silent fallback to grid). */
export function layoutFunction(spelling: string): LayoutFn {
  const choice = parseLayout(spelling);
  if (!choice) throw new Error(`unknown layout "${spelling}": it ${LAYOUT_RULE}`);
  return LAYOUT_FUNCTIONS[choice.layout];
}

/**
 * The layout and theme a page is launched with: `layout` in any spelling, `theme` when given
 * (a theme the spelling names too must agree). Throws for what is not ours.
 */
export function chooseStyle(layout: string, theme?: string | null): { layout: LayoutName; theme: ThemeName } {
  const choice = parseLayout(layout);
  if (!choice) throw new Error(`unknown layout "${layout}": it ${LAYOUT_RULE}`);
  if (theme != null && !isThemeName(theme)) throw new Error(`unknown theme "${theme}": use ${THEME_NAMES.join(' or ')}`);
  if (theme != null && choice.theme && theme !== choice.theme) throw new Error(`layout "${layout}" is ${choice.theme}, theme says ${theme}`);
  return { layout: choice.layout, theme: theme ?? choice.theme ?? DEFAULT_THEME };
}
