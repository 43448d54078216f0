import { isLayoutName, isThemeName } from './layouts/names';
import type { OverlayPosition } from './overlay-spec';
import { previewParticipants } from './preview-scene';
import { CANVAS_SIZES, FIELDS, type Field, type StudioState } from './studio-settings';

/**
 * The studio's controls (studio.html's #controls): the state they show, read and written as
 * one StudioState, and the API's messages shown under the control each is about.
 */
const POSITIONS: { value: OverlayPosition; label: string }[] = [
  { value: 'top-left', label: 'Top left' },
  { value: 'top-right', label: 'Top right' },
  { value: 'bottom-left', label: 'Bottom left' },
  { value: 'bottom-right', label: 'Bottom right' },
  { value: 'center', label: 'Centre' },
];

/** The control's name of a field the API names by its path. */
const CONTROL_NAMES: Partial<Record<Field, string>> = {
  'overlays.textWatermark.text': 'textText', 'overlays.textWatermark.size': 'textSize', 'overlays.textWatermark.colour': 'textColour',
  'overlays.textWatermark.opacity': 'textOpacity', 'overlays.textWatermark.position': 'textPosition',
  'overlays.imageWatermark.url': 'imageUrl', 'overlays.imageWatermark.size': 'imageSize', 'overlays.imageWatermark.opacity': 'imageOpacity',
  'overlays.imageWatermark.position': 'imagePosition', 'overlays.clock.timeZone': 'clockTimeZone', 'overlays.clock.position': 'clockPosition',
  'overlays.background.colour': 'bgColour', 'overlays.background.imageUrl': 'bgImage',
};
const controlName = (field: Field) => CONTROL_NAMES[field] ?? field;

export class StudioForm {
  constructor(readonly form: HTMLFormElement) {
    const size = this.select('size');
    for (const s of CANVAS_SIZES) size.add(new Option(s.label, s.name));
    size.add(new Option('Custom size', 'custom'));
    for (const el of form.querySelectorAll<HTMLSelectElement>('select[data-positions]')) {
      for (const p of POSITIONS) el.add(new Option(p.label, p.value));
      el.value = el.dataset.positions!;
    }
    this.peopleChanged();
    this.showWhatApplies();
  }

  /** Calls `fn` after any change a user makes (typing included). */
  onChange(fn: () => void): void {
    const changed = (e: Event) => {
      const name = (e.target as HTMLInputElement).name;
      // the user mends the field: its message goes now, not when the next check answers
      const edited = FIELDS.find((f) => controlName(f) === name);
      if (edited) this.markField(edited, undefined);
      if (name === 'size') this.sizeChosen();
      if (name === 'participants') this.peopleChanged();
      this.showWhatApplies();
      fn();
    };
    this.form.addEventListener('input', changed);
    this.form.addEventListener('change', changed);
    this.form.addEventListener('submit', (e) => e.preventDefault());
  }

  read(): StudioState {
    const v = (name: string) => this.input(name).value;
    const num = (name: string) => Number(v(name));
    const person = (name: string) => (v(name) === '' ? undefined : Number(v(name)));
    const layout = this.radio('layout');
    const theme = this.radio('theme');
    const s: StudioState = {
      layout: isLayoutName(layout) ? layout : 'grid',
      theme: isThemeName(theme) ? theme : 'dark',
      width: num('width'),
      height: num('height'),
      participants: num('participants'),
      screenShare: person('screenShare'),
      speaking: person('speaking'),
      cameraOff: person('cameraOff'),
      nameLabels: this.checked('nameLabels'),
    };
    if (v('fps') !== '') s.fps = num('fps');
    if (this.checked('textOn')) s.text = { text: v('textText'), position: v('textPosition') as OverlayPosition, size: num('textSize'), colour: v('textColour'), opacity: num('textOpacity') };
    if (this.checked('imageOn')) s.image = { url: v('imageUrl').trim(), position: v('imagePosition') as OverlayPosition, size: num('imageSize'), opacity: num('imageOpacity') };
    if (this.checked('clockOn')) s.clock = { position: v('clockPosition') as OverlayPosition, timeZone: v('clockTimeZone').trim() };
    const bg = this.radio('bgKind');
    if (bg === 'colour') s.background = { colour: v('bgColour') };
    if (bg === 'image') s.background = { imageUrl: v('bgImage').trim() };
    return s;
  }

  write(s: StudioState): void {
    const set = (name: string, value: string | number | undefined) => {
      if (value !== undefined) this.input(name).value = String(value);
    };
    this.setRadio('layout', s.layout);
    this.setRadio('theme', s.theme);
    const preset = CANVAS_SIZES.find((c) => c.width === s.width && c.height === s.height);
    this.select('size').value = preset ? preset.name : 'custom';
    set('width', s.width);
    set('height', s.height);
    this.select('fps').value = s.fps === undefined ? '' : String(s.fps);
    set('participants', s.participants);
    this.peopleChanged();
    for (const k of ['screenShare', 'speaking', 'cameraOff'] as const) this.select(k).value = s[k] === undefined ? '' : String(s[k]);
    this.input('nameLabels').checked = s.nameLabels;
    this.fill('text', s.text);
    this.fill('image', s.image);
    this.fill('clock', s.clock);
    const bg = s.background;
    this.setRadio('bgKind', !bg ? 'theme' : 'colour' in bg ? 'colour' : 'image');
    if (bg && 'colour' in bg) set('bgColour', bg.colour);
    if (bg && 'imageUrl' in bg) set('bgImage', bg.imageUrl);
    this.showWhatApplies();
  }

  /** An overlay's toggle (`<prefix>On`) and its controls (`<prefix><Key>`: textSize, clockTimeZone). */
  private fill(prefix: 'text' | 'image' | 'clock', values: object | undefined): void {
    this.input(`${prefix}On`).checked = values !== undefined;
    for (const [k, v] of Object.entries(values ?? {})) this.input(prefix + k[0].toUpperCase() + k.slice(1)).value = String(v);
  }

  /** Each message under its control (`general` when it names none); none clears them all. */
  showErrors(errors: Partial<Record<Field | 'general', string>>): void {
    for (const f of FIELDS) this.markField(f, errors[f]);
    this.showMessage('general', errors.general);
  }

  /** `message` under the control of `field`, which is marked invalid while it is there. */
  private markField(field: Field, message: string | undefined): void {
    this.showMessage(field, message);
    const control = this.form.querySelector<HTMLElement>(`[name="${controlName(field)}"]`) ?? document.querySelector<HTMLElement>(`#save [name="${controlName(field)}"]`);
    if (message) control?.setAttribute('aria-invalid', 'true');
    else control?.removeAttribute('aria-invalid');
  }

  private showMessage(field: Field | 'general', message: string | undefined): void {
    const el = document.querySelector<HTMLElement>(`[data-error="${field}"]`);
    if (!el) return;
    el.textContent = message ?? '';
    el.classList.toggle('shown', Boolean(message));
  }

  private sizeChosen(): void {
    const chosen = CANVAS_SIZES.find((c) => c.name === this.select('size').value);
    if (!chosen) return;
    this.input('width').value = String(chosen.width);
    this.input('height').value = String(chosen.height);
  }

  /** The participant pickers list the people there are: number and name. */
  private peopleChanged(): void {
    const n = Number(this.input('participants').value) || 1;
    (this.form.elements.namedItem('participantsOut') as HTMLOutputElement).value = String(n);
    const people = previewParticipants({ width: 1, height: 1, layout: 'grid', theme: 'dark', participants: n });
    for (const el of this.form.querySelectorAll<HTMLSelectElement>('select[data-people]')) {
      const kept = el.value;
      el.replaceChildren(new Option('Nobody', ''), ...people.map((p, i) => new Option(`${i + 1} · ${p.name}`, String(i + 1))));
      el.value = Number(kept) <= n ? kept : '';
    }
  }

  /** Only the settings of the chosen options show; the sliders say their value. */
  private showWhatApplies(): void {
    const sizeIsCustom = this.select('size').value === 'custom';
    document.getElementById('custom-size')!.classList.toggle('readonly', !sizeIsCustom);
    for (const k of ['width', 'height']) this.input(k).readOnly = !sizeIsCustom;
    for (const fs of this.form.querySelectorAll<HTMLFieldSetElement>('fieldset.overlay')) {
      const toggle = fs.querySelector<HTMLInputElement>('legend input[type=checkbox]');
      if (toggle) fs.classList.toggle('on', toggle.checked);
    }
    const bg = this.radio('bgKind');
    for (const el of this.form.querySelectorAll<HTMLElement>('[data-bg]')) el.hidden = el.dataset.bg !== bg;
    for (const out of this.form.querySelectorAll<HTMLOutputElement>('output[data-for]')) {
      const value = Number(this.input(out.dataset.for!).value);
      out.value = out.dataset.for!.endsWith('Opacity') || out.dataset.for === 'imageSize' ? `${Math.round(value * 100)}%` : `${(value * 100).toFixed(1)}%`;
    }
  }

  private input(name: string): HTMLInputElement {
    return this.form.elements.namedItem(name) as HTMLInputElement;
  }

  private select(name: string): HTMLSelectElement {
    return this.form.elements.namedItem(name) as HTMLSelectElement;
  }

  private radio(name: string): string {
    return (this.form.elements.namedItem(name) as RadioNodeList).value;
  }

  private setRadio(name: string, value: string): void {
    (this.form.elements.namedItem(name) as RadioNodeList).value = value;
  }

  private checked(name: string): boolean {
    return this.input(name).checked;
  }
}
