/**
 * The one list of built-in layout names. The API, the CLI, the domain's option rules and
 * the recorder page all import it, so a name is either known everywhere or refused
 * everywhere (the page refuses one it has no function for instead of drawing another).
 * Pure data: imported by Node code as well as bundled into the page.
 */
export const LAYOUT_NAMES = ['grid', 'speaker', 'single'] as const;
export type LayoutName = (typeof LAYOUT_NAMES)[number];

export const DEFAULT_LAYOUT: LayoutName = 'grid';

export function isLayoutName(value: unknown): value is LayoutName {
  return typeof value === 'string' && (LAYOUT_NAMES as readonly string[]).includes(value);
}
