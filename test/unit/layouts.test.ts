import { bestGrid, grid, gridRects, LAYOUT_NAMES, layoutFunction, presentation, singleSpeaker as single, speaker, type LayoutParticipant, type Rect } from '../../recorder-page/src/layouts';

const people = (n: number, extra: Partial<LayoutParticipant> = {}): LayoutParticipant[] =>
  Array.from({ length: n }, (_, i) => ({ identity: `p${i}`, screenShare: false, speaking: false, ...extra }));

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

describe('grid maths', () => {
  it.each([
    [1, 1, 1],
    [2, 2, 1],
    [3, 2, 2],
    [4, 2, 2],
    [5, 3, 2],
    [9, 3, 3],
    [10, 4, 3],
  ])('%i tiles on 1280x720 use %i columns and %i rows', (n, cols, rows) => {
    expect(bestGrid(n, 1280, 720, 16 / 9, 8)).toMatchObject({ cols, rows });
  });

  it('keeps tiles inside the canvas, at 16:9, without overlap', () => {
    for (let n = 1; n <= 16; n++) {
      const tiles = grid(people(n), 1280, 720);
      expect(tiles).toHaveLength(n);
      for (const t of tiles) {
        expect(t.x).toBeGreaterThanOrEqual(0);
        expect(t.y).toBeGreaterThanOrEqual(0);
        expect(t.x + t.w).toBeLessThanOrEqual(1280);
        expect(t.y + t.h).toBeLessThanOrEqual(720);
        expect(Math.abs(t.w / t.h - 16 / 9)).toBeLessThan(0.02);
      }
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(overlaps(tiles[i], tiles[j])).toBe(false);
    }
  });

  it('centres the last, shorter row', () => {
    const [a, b, c] = gridRects(3, { x: 0, y: 0, w: 1280, h: 720 }, 16 / 9, 8);
    expect(a.y).toBe(b.y);
    expect(c.y).toBeGreaterThan(a.y);
    expect(Math.abs(c.x + c.w / 2 - 640)).toBeLessThanOrEqual(1);
  });

  it('one participant fills the frame edge to edge at 16:9', () => {
    const [t] = grid(people(1), 1280, 720, { gap: 0, aspect: 16 / 9 });
    expect(t).toMatchObject({ x: 0, y: 0, w: 1280, h: 720 });
  });

  it('an empty room has no tiles (the background is drawn)', () => {
    expect(grid([], 1280, 720)).toEqual([]);
    expect(speaker([], 1280, 720)).toEqual([]);
    expect(single([], 1280, 720)).toEqual([]);
  });

  it('a screen share takes the stage and cameras move to a strip', () => {
    const ps = people(3);
    ps[1].screenShare = true;
    const tiles = grid(ps, 1280, 720);
    const stage = tiles.find((t) => t.kind === 'screen')!;
    expect(stage.identity).toBe('p1');
    const cams = tiles.filter((t) => t.kind === 'camera');
    expect(cams).toHaveLength(3);
    for (const c of cams) {
      expect(c.w * c.h).toBeLessThan(stage.w * stage.h / 4);
      expect(overlaps(c, stage)).toBe(false);
    }
  });

  it('speaker layout puts the active speaker on the stage', () => {
    const ps = people(4);
    ps[2].speaking = true;
    const [stage, ...strip] = speaker(ps, 1280, 720);
    expect(stage.identity).toBe('p2');
    expect(strip.map((t) => t.identity)).toEqual(['p0', 'p1', 'p3']);
  });

  it('keeps the last speaker on the stage while nobody speaks, and gives it to whoever speaks now', () => {
    const ps = people(3);
    ps[1].spokeAt = 100;
    ps[2].spokeAt = 250;
    expect(speaker(ps, 1280, 720)[0].identity).toBe('p2');
    expect(single(ps, 1280, 720)[0].identity).toBe('p2');
    ps[0].speaking = true;
    expect(speaker(ps, 1280, 720)[0].identity).toBe('p0');
    // nobody has spoken yet: the first participant
    expect(speaker(people(3), 1280, 720)[0].identity).toBe('p0');
  });
});

describe('layout names', () => {
  test('every name of the one list has a function; any other name is refused, not drawn as grid', () => {
    expect(LAYOUT_NAMES.map(layoutFunction)).toEqual([grid, speaker, single, presentation]);
    expect(layoutFunction('single')).toBe(single);
    expect(layoutFunction('speaker-light')).toBe(speaker);
    for (const name of ['mosaic', 'Grid', '', 'toString', '__proto__', 'grid-', '-light', 'grid-blue', 'grid-light-dark', 'light']) expect(() => layoutFunction(name)).toThrow(`unknown layout "${name}"`);
  });
});
