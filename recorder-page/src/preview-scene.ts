import { chooseStyle, type LayoutName, type ThemeName } from './layouts';
import type { PageOverlays } from './overlay-spec';

/**
 * The synthetic participants of a layout preview: who is in it, their colours and names,
 * who has no camera, who shares a screen, who speaks. Pure data, shared by the preview page
 * (which draws them with the recorder's compositor) and by whoever checks its picture.
 */
export interface PreviewRequest {
  width: number;
  height: number;
  layout: LayoutName;
  theme: ThemeName;
  participants: number;
  /** 1-based: the participant sharing a screen. */
  screenShare?: number;
  /** 1-based: the participant speaking. */
  speaking?: number;
  /** 1-based: the participant without a camera (drawn as a name tile). */
  cameraOff?: number;
  /** Drawn as a recording draws them (images as data: URLs by the time the page has them). */
  overlays?: PageOverlays;
}

export interface PreviewParticipant {
  identity: string;
  name: string;
  /** The colour of their camera picture; undefined without a camera. */
  camera?: string;
  /** The colour of their shared screen. */
  screen?: string;
  speaking: boolean;
}

/** Camera colours, far apart from each other, from both themes' backgrounds and from the share's. */
export const PREVIEW_CAMERA_COLOURS = ['#e03131', '#2f9e44', '#1971c2', '#f08c00', '#9c36b5', '#0c8599', '#c2255c', '#5c940d'] as const;
export const PREVIEW_SCREEN_COLOUR = '#fcc419';
const NAMES = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Margaret Hamilton', 'Ken Thompson'];

export function previewParticipants(r: PreviewRequest): PreviewParticipant[] {
  return Array.from({ length: r.participants }, (_, i) => {
    const n = i + 1;
    const name = NAMES[i % NAMES.length] + (i >= NAMES.length ? ` ${Math.floor(i / NAMES.length) + 1}` : '');
    return {
      identity: `p${n}`,
      name,
      camera: r.cameraOff === n ? undefined : PREVIEW_CAMERA_COLOURS[i % PREVIEW_CAMERA_COLOURS.length],
      screen: r.screenShare === n ? PREVIEW_SCREEN_COLOUR : undefined,
      speaking: r.speaking === n,
    };
  });
}

/** The preview page's query for a request, and back. */
export function previewQuery(r: PreviewRequest): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(r)) if (v !== undefined) q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  return q.toString();
}

/** Throws for a layout or theme that is not ours. */
export function parsePreviewQuery(query: string): PreviewRequest {
  const q = new URLSearchParams(query);
  const num = (k: string) => (q.get(k) ? Number(q.get(k)) : undefined);
  return {
    width: num('width') ?? 1280,
    height: num('height') ?? 720,
    ...chooseStyle(q.get('layout') ?? 'grid', q.get('theme')),
    participants: num('participants') ?? 4,
    screenShare: num('screenShare'),
    speaking: num('speaking'),
    cameraOff: num('cameraOff'),
    overlays: q.get('overlays') ? (JSON.parse(q.get('overlays')!) as PageOverlays) : undefined,
  };
}
