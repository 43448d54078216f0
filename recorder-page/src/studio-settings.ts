import type { LayoutName, ThemeName } from './layouts/names';
import type { OverlayPosition, PageOverlays } from './overlay-spec';
import type { PreviewRequest } from './preview-scene';

/**
 * What the layout studio's controls hold, and what it becomes: the body of a preset
 * (PUT /api/layout-presets/:name, checked by the API's own rules), the preview the picture
 * draws, and back from a saved preset. Pure data (no DOM): jest checks it too. The rules
 * themselves are the API's; the page only says where an answer belongs.
 */
export interface StudioState {
  layout: LayoutName;
  theme: ThemeName;
  width: number;
  height: number;
  /** Frames per second the preset records at; undefined leaves it to the start request. */
  fps?: number;
  participants: number;
  /** 1-based participant numbers; undefined: nobody. */
  screenShare?: number;
  speaking?: number;
  cameraOff?: number;
  text?: { text: string; position: OverlayPosition; size: number; colour: string; opacity: number };
  image?: { url: string; position: OverlayPosition; size: number; opacity: number };
  nameLabels: boolean;
  clock?: { position: OverlayPosition; timeZone: string };
  background?: { colour: string } | { imageUrl: string };
}

export const DEFAULT_STATE: StudioState = { layout: 'grid', theme: 'dark', width: 1280, height: 720, participants: 4, nameLabels: false };

/** The canvas sizes of the start request's `resolution` (src/recordings/options.ts RESOLUTION_PRESETS). */
export const CANVAS_SIZES = [
  { name: '720p', label: '1280×720 (720p)', width: 1280, height: 720 },
  { name: '1080p', label: '1920×1080 (1080p)', width: 1920, height: 1080 },
  { name: '720p-portrait', label: '720×1280 (portrait)', width: 720, height: 1280 },
  { name: '1080p-portrait', label: '1080×1920 (portrait)', width: 1080, height: 1920 },
] as const;

/** The start request's overlays of the state (image URLs as typed). */
export function stateOverlays(s: StudioState): PageOverlays | undefined {
  const o: PageOverlays = {};
  if (s.text) o.textWatermark = s.text;
  if (s.image) o.imageWatermark = s.image;
  if (s.nameLabels) o.nameLabels = true;
  if (s.clock) o.clock = s.clock;
  if (s.background) o.background = s.background;
  return Object.keys(o).length > 0 ? o : undefined;
}

/** The preset's settings: what a start request naming it gets. */
export function presetBody(s: StudioState): Record<string, unknown> {
  const body: Record<string, unknown> = { layout: s.layout, theme: s.theme, width: s.width, height: s.height };
  if (s.fps !== undefined) body.fps = s.fps;
  const overlays = stateOverlays(s);
  if (overlays) body.overlays = overlays;
  return body;
}

/** The dry run's body: the preset's settings and the synthetic participants. */
export function checkBody(s: StudioState): Record<string, unknown> {
  const scene: Record<string, unknown> = { participants: s.participants };
  for (const k of ['screenShare', 'speaking', 'cameraOff'] as const) if (s[k] !== undefined) scene[k] = s[k];
  return { ...presetBody(s), ...scene };
}

/**
 * What the picture draws. `images` maps an image URL to its data: URL: an image not (yet)
 * loaded is left out of the picture, never fetched by the page.
 */
export function previewOf(s: StudioState, images: ReadonlyMap<string, string>): PreviewRequest {
  const r: PreviewRequest = { width: s.width, height: s.height, layout: s.layout, theme: s.theme, participants: s.participants };
  for (const k of ['screenShare', 'speaking', 'cameraOff'] as const) if (s[k] !== undefined && s[k]! <= s.participants) r[k] = s[k];
  const o = stateOverlays(s);
  if (o) {
    const drawn: PageOverlays = { ...o };
    const watermark = o.imageWatermark && images.get(o.imageWatermark.url);
    if (o.imageWatermark) {
      if (watermark) drawn.imageWatermark = { ...o.imageWatermark, url: watermark };
      else delete drawn.imageWatermark;
    }
    if (o.background && 'imageUrl' in o.background) {
      const backdrop = images.get(o.background.imageUrl);
      if (backdrop) drawn.background = { imageUrl: backdrop };
      else delete drawn.background;
    }
    r.overlays = drawn;
  }
  return r;
}

/** A preset as GET /api/layout-presets shows it (only what the studio reads of it). */
export interface PresetView {
  name: string;
  layout?: LayoutName;
  theme?: ThemeName;
  width?: number;
  height?: number;
  fps?: number;
  overlays?: PageOverlays;
}

/** The controls for a saved preset; the participants stay as they are (a preset has none). */
export function stateFromPreset(p: PresetView, current: StudioState): StudioState {
  const o = p.overlays ?? {};
  const s: StudioState = {
    ...DEFAULT_STATE,
    participants: current.participants,
    screenShare: current.screenShare,
    speaking: current.speaking,
    cameraOff: current.cameraOff,
    layout: p.layout ?? DEFAULT_STATE.layout,
    theme: p.theme ?? DEFAULT_STATE.theme,
    width: p.width ?? DEFAULT_STATE.width,
    height: p.height ?? DEFAULT_STATE.height,
    nameLabels: o.nameLabels === true,
  };
  if (p.fps !== undefined) s.fps = p.fps;
  if (o.textWatermark) s.text = o.textWatermark;
  if (o.imageWatermark) s.image = o.imageWatermark;
  if (o.clock) s.clock = o.clock;
  if (o.background) s.background = o.background;
  return s;
}

/** One line that says what a preset sets. */
export function presetSummary(p: PresetView): string {
  const parts: string[] = [];
  if (p.layout) parts.push(p.layout);
  if (p.theme) parts.push(p.theme);
  if (p.width && p.height) parts.push(`${p.width}×${p.height}`);
  if (p.fps) parts.push(`${p.fps} fps`);
  const o = p.overlays ?? {};
  const n = (['textWatermark', 'imageWatermark', 'nameLabels', 'clock', 'background'] as const).filter((k) => o[k] !== undefined && o[k] !== false).length;
  if (n > 0) parts.push(`${n} overlay${n > 1 ? 's' : ''}`);
  return parts.join(' · ');
}

/** The controls an answer's message may name, most specific first. */
export const FIELDS = [
  'overlays.textWatermark.text', 'overlays.textWatermark.position', 'overlays.textWatermark.size', 'overlays.textWatermark.colour', 'overlays.textWatermark.opacity',
  'overlays.imageWatermark.url', 'overlays.imageWatermark.position', 'overlays.imageWatermark.size', 'overlays.imageWatermark.opacity',
  'overlays.clock.position', 'overlays.clock.timeZone',
  'overlays.background.colour', 'overlays.background.imageUrl',
  'width', 'height', 'fps', 'layout', 'theme', 'participants', 'screenShare', 'speaking', 'cameraOff', 'name',
] as const;
export type Field = (typeof FIELDS)[number];

/**
 * The controls an API message is about. The API names a field as a path (`body.width: ...`,
 * `body.overlays.clock.timeZone: ...`) or as its first word (`width must be ...`); an image
 * refused for its origin or its bytes is the image field whose URL it names. Empty: the
 * message is about the settings as a whole.
 */
export function fieldsOfMessage(message: string, s: StudioState): Field[] {
  const found = new Set<Field>();
  for (const part of message.split('; ')) {
    const path = /^body\.([A-Za-z.]+):/.exec(part)?.[1];
    if (path) {
      const field = FIELDS.find((f) => path === f || path.startsWith(`${f}.`)) ?? FIELDS.find((f) => f.startsWith(`${path}.`));
      if (field) found.add(field);
      continue;
    }
    const word = /^([A-Za-z]+)\b/.exec(part)?.[1];
    if (word && (FIELDS as readonly string[]).includes(word)) found.add(word as Field);
    else if (/^give either resolution/.test(part)) found.add('width');
    else if (/image/.test(part)) {
      if (s.image && mentions(part, s.image.url)) found.add('overlays.imageWatermark.url');
      if (s.background && 'imageUrl' in s.background && mentions(part, s.background.imageUrl)) found.add('overlays.background.imageUrl');
    }
  }
  return [...found];
}

/** The control a refusal's details name (`{ path }`: an overlay image not allowed or not uploaded), if one. */
export function fieldOfDetails(details: unknown): Field | undefined {
  const path = typeof details === 'object' && details !== null ? (details as { path?: unknown }).path : undefined;
  return FIELDS.find((f) => f === path);
}

/** Whether a message names `url` (by itself or by its origin). */
function mentions(message: string, url: string): boolean {
  try {
    return message.includes(new URL(url).origin);
  } catch {
    // not a URL at all: a message about "an absolute http(s) URL" is about it
    return /absolute http/.test(message);
  }
}
