/**
 * Helpers run in the layout studio's page (as source: the tests compile without the DOM's types): controls set
 * as a user sets them (an input or change event on each), the canvas's colours, what the
 * controls hold.
 */
export const IN_PAGE = `window.t = {
  set(v) {
    const form = document.getElementById('controls');
    for (const [name, value] of Object.entries(v)) {
      const item = form.elements.namedItem(name);
      if (item instanceof RadioNodeList) {
        item.value = String(value);
        [...item].find((r) => r.checked).dispatchEvent(new Event('change', { bubbles: true }));
        continue;
      }
      if (typeof value === 'boolean') item.checked = value;
      else item.value = value;
      item.dispatchEvent(new Event(item.tagName === 'SELECT' || item.type === 'checkbox' ? 'change' : 'input', { bubbles: true }));
    }
  },
  canvas: () => document.querySelector('#picture canvas'),
  size() { const c = t.canvas(); return { width: c.width, height: c.height }; },
  pixels(points) {
    const ctx = t.canvas().getContext('2d');
    return points.map(({ x, y }) => {
      const d = ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data;
      return '#' + [d[0], d[1], d[2]].map((c) => c.toString(16).padStart(2, '0')).join('');
    });
  },
  drawnAfter: (n) => window.studio.picture.drawn > n && document.getElementById('picture').dataset.state === 'ready',
  text: (selector) => document.querySelector(selector).textContent,
  error(field) { const el = document.querySelector('[data-error="' + field + '"]'); return el.classList.contains('shown') ? el.textContent : ''; },
  controls() {
    const f = document.getElementById('controls');
    const value = (n) => f.elements.namedItem(n).value;
    const on = (n) => f.elements.namedItem(n).checked;
    return { layout: value('layout'), theme: value('theme'), size: value('size'), fps: value('fps'), text: on('textOn') && value('textText'), clock: on('clockOn') && value('clockTimeZone'), labels: on('nameLabels') };
  },
};`;
