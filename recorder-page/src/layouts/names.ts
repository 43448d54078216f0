/**
 * The one list of built-in layout and theme names, and the one parser of how a caller spells
 * them. The API, the CLI, the domain's option rules and the recorder page all import it, so
 * a name is either known everywhere or refused everywhere (the page refuses one it has no
 * function for instead of drawing another). Pure data: imported by Node code as well as
 * bundled into the page.
 *
 * Spellings follow LiveKit Egress: `grid`, `speaker`, `single-speaker`, each also with a
 * `-light` or `-dark` suffix (dark is the default); `presentation` is ours, and `single`
 * (this recorder's older name) is `single-speaker`.
 */
export const LAYOUT_NAMES = ['grid', 'speaker', 'single-speaker', 'presentation'] as const;
export type LayoutName = (typeof LAYOUT_NAMES)[number];

export const THEME_NAMES = ['dark', 'light'] as const;
export type ThemeName = (typeof THEME_NAMES)[number];

export const DEFAULT_LAYOUT: LayoutName = 'grid';
export const DEFAULT_THEME: ThemeName = 'dark';

/** Older or other names of a layout. */
const LAYOUT_ALIASES: Readonly<Record<string, LayoutName>> = { single: 'single-speaker' };

export interface LayoutChoice {
  layout: LayoutName;
  /** Only when the spelling named one (`speaker-light`); else the caller's theme or the default. */
  theme?: ThemeName;
}

export function isLayoutName(value: unknown): value is LayoutName {
  return typeof value === 'string' && (LAYOUT_NAMES as readonly string[]).includes(value);
}

export function isThemeName(value: unknown): value is ThemeName {
  return typeof value === 'string' && (THEME_NAMES as readonly string[]).includes(value);
}

/** A layout name or alias, without a theme suffix, as the layout it names. */
export function canonicalLayout(value: unknown): LayoutName | undefined {
  if (isLayoutName(value)) return value;
  return typeof value === 'string' && Object.hasOwn(LAYOUT_ALIASES, value) ? LAYOUT_ALIASES[value] : undefined;
}

/** `speaker-light` -> { layout: 'speaker', theme: 'light' }; undefined for anything that is not a spelling of ours. */
export function parseLayout(spelling: unknown): LayoutChoice | undefined {
  if (typeof spelling !== 'string') return undefined;
  const suffix = THEME_NAMES.find((t) => spelling.endsWith(`-${t}`));
  const layout = canonicalLayout(suffix ? spelling.slice(0, -suffix.length - 1) : spelling);
  if (!layout) return undefined;
  return suffix ? { layout, theme: suffix } : { layout };
}

/** Every spelling parseLayout accepts (for enums in help and OpenAPI). */
export const LAYOUT_SPELLINGS: readonly [string, ...string[]] = (() => {
  const bases = [...LAYOUT_NAMES, ...Object.keys(LAYOUT_ALIASES)];
  const all = bases.flatMap((b) => [b, ...THEME_NAMES.map((t) => `${b}-${t}`)]);
  return [all[0], ...all.slice(1)];
})();

/** The rule in words, for refusals. */
export const LAYOUT_RULE = `must be one of ${LAYOUT_NAMES.join(', ')}, optionally ending in ${THEME_NAMES.map((t) => `-${t}`).join(' or ')} (${Object.entries(LAYOUT_ALIASES)
  .map(([alias, name]) => `${alias} is ${name}`)
  .join(', ')})`;

/** The Egress spelling of a choice, as a custom layout page expects it in `layout`: `grid`, `grid-light`. */
export function layoutSpelling(layout: LayoutName, theme: ThemeName = DEFAULT_THEME): string {
  return theme === DEFAULT_THEME ? layout : `${layout}-${theme}`;
}
