/**
 * What the page draws over (and under) the layout, as the worker hands it over (kept free of
 * DOM and Node types so both compile it). The same shape as the domain's overlays
 * (src/recordings/overlays.ts), except that every image is a data: URL the worker fetched from
 * an allowed origin: the page fetches nothing, and a canvas drawn with data: images stays
 * origin-clean, so it can still be captured.
 */
export type OverlayPosition = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' | 'center';

export interface PageOverlays {
  textWatermark?: { text: string; position: OverlayPosition; size: number; colour: string; opacity: number };
  imageWatermark?: { url: string; position: OverlayPosition; size: number; opacity: number };
  nameLabels?: boolean;
  clock?: { position: OverlayPosition; timeZone: string };
  background?: { colour: string } | { imageUrl: string };
}
