import {
  chooseStyle, LAYOUT_NAMES, LAYOUT_SPELLINGS, layoutFunction, layoutSpelling, parseLayout, THEMES, type LayoutName, type LayoutParticipant, type Rect, type Tile,
} from '../../recorder-page/src/layouts';

/** Every layout, landscape and portrait, with and without a screen share: the properties a picture needs. */

const people = (n: number, share = -1, speaking = -1): LayoutParticipant[] =>
  Array.from({ length: n }, (_, i) => ({ identity: `p${i}`, screenShare: i === share, speaking: i === speaking }));

const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const area = (r: Rect) => r.w * r.h;
const centre = (r: Rect) => ({ x: r.x + r.w / 2, y: r.y + r.h / 2 });

const SIZES: [string, number, number][] = [
  ['landscape 1280x720', 1280, 720],
  ['landscape 1920x1080', 1920, 1080],
  ['portrait 720x1280', 720, 1280],
  ['portrait 1080x1920', 1080, 1920],
];

/** How many tiles a layout draws for n participants (one of them sharing when `share`). */
function expectedTiles(layout: LayoutName, n: number, share: boolean): number {
  if (layout === 'single-speaker') return 1;
  return n + (share ? 1 : 0);
}

describe.each(SIZES)('%s', (_label, width, height) => {
  describe.each(LAYOUT_NAMES.map((l) => [l]))('%s', (layout) => {
    const fn = layoutFunction(layout);
    it.each([1, 2, 3, 4, 6, 9, 16])('%i participants, with and without a share: the right tile count, inside the canvas, none overlapping', (n) => {
      for (const share of [false, true]) {
        const tiles = fn(people(n, share ? 0 : -1), width, height);
        expect(tiles).toHaveLength(expectedTiles(layout, n, share));
        for (const t of tiles) {
          expect({ t, inside: t.x >= 0 && t.y >= 0 && t.x + t.w <= width && t.y + t.h <= height && t.w > 0 && t.h > 0 }).toEqual({ t, inside: true });
        }
        for (let i = 0; i < tiles.length; i++) for (let j = i + 1; j < tiles.length; j++) expect(overlaps(tiles[i], tiles[j])).toBe(false);
        expect(new Set(tiles.map((t) => `${t.identity}/${t.kind}`)).size).toBe(tiles.length);
      }
    });

    it('a screen share takes the largest tile (the stage)', () => {
      const tiles = fn(people(4, 2), width, height);
      const screen = tiles.find((t) => t.kind === 'screen')!;
      expect(screen.identity).toBe('p2');
      for (const t of tiles) if (t !== screen) expect(area(t)).toBeLessThan(area(screen));
    });
  });

  it('grid: everyone the same size while nobody shares; while someone does, it is the speaker layout', () => {
    const tiles = layoutFunction('grid')(people(4), width, height);
    expect(new Set(tiles.map(area)).size).toBeLessThanOrEqual(2); // rounding
    expect(layoutFunction('grid')(people(4, 1), width, height)).toEqual(layoutFunction('speaker')(people(4, 1), width, height));
  });

  it('presentation without a share is the speaker on the stage, the others in the strip', () => {
    const [stage, ...strip] = layoutFunction('presentation')(people(3, -1, 1), width, height);
    expect(stage).toMatchObject({ identity: 'p1', kind: 'camera' });
    expect(strip.map((t) => t.identity)).toEqual(['p0', 'p2']);
    for (const t of strip) expect(area(t)).toBeLessThan(area(stage) / 3);
  });
});

/** Where the strip of a stage layout lies, relative to the stage. */
function stripSide(tiles: Tile[]): string {
  const [stage, ...strip] = tiles;
  const sides = strip.map((t) => (t.x >= stage.x + stage.w ? 'right' : t.y >= stage.y + stage.h ? 'below' : 'elsewhere'));
  return [...new Set(sides)].join(',');
}

describe('where the strip goes', () => {
  it.each([
    ['speaker', 1280, 720, 'right'],
    ['speaker', 720, 1280, 'below'],
    ['presentation', 1280, 720, 'below'],
    ['presentation', 1080, 1920, 'below'],
    ['grid', 1920, 1080, 'right'],
    ['grid', 720, 1280, 'below'],
  ] as const)('%s on %ix%i with a share: %s the stage', (layout, w, h, side) => {
    const tiles = layoutFunction(layout)(people(3, 0), w, h);
    expect(tiles[0].kind).toBe('screen');
    expect(stripSide(tiles)).toBe(side);
  });

  it('on a landscape canvas presentation gives the share more width than speaker does, its cameras in one row', () => {
    const [pStage, ...pStrip] = layoutFunction('presentation')(people(4, 0), 1280, 720);
    const [sStage] = layoutFunction('speaker')(people(4, 0), 1280, 720);
    expect(pStage.w).toBeGreaterThanOrEqual(sStage.w);
    expect(new Set(pStrip.map((t) => t.y)).size).toBe(1);
  });

  it('a portrait stage is as wide as the canvas and on top; a portrait grid stacks more rows than columns', () => {
    const [stage] = layoutFunction('speaker')(people(3), 720, 1280);
    expect(stage.w).toBeGreaterThan(700);
    expect(centre(stage).y).toBeLessThan(1280 / 2);
    const tiles = layoutFunction('grid')(people(4), 720, 1280);
    const cols = new Set(tiles.map((t) => t.x)).size;
    const rows = new Set(tiles.map((t) => t.y)).size;
    expect(rows).toBeGreaterThan(cols);
  });

  it('a portrait grid of six fills the width with two columns of square-ish tiles, not one column of thin 16:9 ones', () => {
    const tiles = layoutFunction('grid')(people(6), 720, 1280);
    expect(new Set(tiles.map((t) => t.x)).size).toBe(2);
    for (const t of tiles) expect(t.w / t.h).toBeGreaterThanOrEqual(0.99);
    for (const t of tiles) expect(t.w / t.h).toBeLessThanOrEqual(16 / 9 + 0.02);
  });

  it('a share on a portrait stage keeps its 16:9 at the full width, at the top, the cameras below it', () => {
    for (const [w, h] of [[720, 1280], [1080, 1920]]) {
      const [share, ...cams] = layoutFunction('presentation')(people(5, 0), w, h);
      expect({ w, top: share.y, wide: share.w >= w - 16, aspect: Math.abs(share.w / share.h - 16 / 9) < 0.03 }).toEqual({ w, top: 8, wide: true, aspect: true });
      for (const c of cams) expect(c.y).toBeGreaterThanOrEqual(share.y + share.h);
    }
  });

  it('single-speaker on a portrait canvas fills it; on a landscape one it is 16:9', () => {
    expect(layoutFunction('single-speaker')(people(2), 720, 1280)).toEqual([{ identity: 'p0', kind: 'camera', x: 8, y: 8, w: 704, h: 1264 }]);
    const [t] = layoutFunction('single-speaker')(people(2), 1280, 720);
    expect(Math.abs(t.w / t.h - 16 / 9)).toBeLessThan(0.02);
  });
});

describe('layout names and themes', () => {
  it.each([
    ['grid', { layout: 'grid' }],
    ['grid-light', { layout: 'grid', theme: 'light' }],
    ['speaker-dark', { layout: 'speaker', theme: 'dark' }],
    ['single-speaker-light', { layout: 'single-speaker', theme: 'light' }],
    ['single', { layout: 'single-speaker' }],
    ['single-light', { layout: 'single-speaker', theme: 'light' }],
    ['presentation-light', { layout: 'presentation', theme: 'light' }],
  ])('%s parses as %j', (spelling, choice) => {
    expect(parseLayout(spelling)).toEqual(choice);
    expect(LAYOUT_SPELLINGS).toContain(spelling);
  });

  it.each(['mosaic', 'Grid', 'grid-Light', 'grid-', '-dark', 'dark', 'grid-light-dark', 'speaker-blue', 'toString', '__proto__', 'hasOwnProperty-light', ''])('refuses %j', (spelling) => {
    expect(parseLayout(spelling)).toBeUndefined();
    expect(LAYOUT_SPELLINGS).not.toContain(spelling);
  });

  it('refuses what is not a string', () => {
    for (const v of [undefined, null, 3, ['grid'], { layout: 'grid' }]) expect(parseLayout(v)).toBeUndefined();
  });

  it('the page resolves a layout and a theme as the API does: dark by default, the suffix or the theme field, a conflict refused', () => {
    expect(chooseStyle('grid')).toEqual({ layout: 'grid', theme: 'dark' });
    expect(chooseStyle('grid-light')).toEqual({ layout: 'grid', theme: 'light' });
    expect(chooseStyle('single', 'light')).toEqual({ layout: 'single-speaker', theme: 'light' });
    expect(chooseStyle('speaker-light', 'light')).toEqual({ layout: 'speaker', theme: 'light' });
    expect(() => chooseStyle('speaker-light', 'dark')).toThrow('layout "speaker-light" is light, theme says dark');
    expect(() => chooseStyle('grid', 'sepia')).toThrow('unknown theme "sepia"');
    expect(() => chooseStyle('mosaic')).toThrow('unknown layout "mosaic"');
  });

  it('a custom layout page is told the layout in the Egress spelling', () => {
    expect(layoutSpelling('speaker', 'light')).toBe('speaker-light');
    expect(layoutSpelling('grid', 'dark')).toBe('grid');
    expect(layoutSpelling('grid')).toBe('grid');
  });

  it('the light theme is light and its text dark, the dark theme the other way round', () => {
    const luma = (hex: string) => {
      const n = parseInt(hex.slice(1), 16);
      return 0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
    };
    expect(luma(THEMES.light.background)).toBeGreaterThan(200);
    expect(luma(THEMES.dark.background)).toBeLessThan(40);
    for (const t of Object.values(THEMES)) expect(Math.abs(luma(t.nameTile) - luma(t.nameText))).toBeGreaterThan(120);
  });
});
