import { ApiRefusal, StudioApi } from './studio-api';
import { StudioForm } from './studio-form';
import { StudioPicture } from './studio-picture';
import { checkBody, DEFAULT_STATE, fieldOfDetails, fieldsOfMessage, presetBody, presetSummary, previewOf, stateFromPreset, type Field, type PresetView, type StudioState } from './studio-settings';

/**
 * The layout studio (served by the API at /studio): the controls of studio.html, the live
 * picture drawn by the recorder's compositor, the API's verdict on the settings under the
 * control it is about, and the presets saved with PUT /api/layout-presets/:name.
 */
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const api = new StudioApi();
const form = new StudioForm($<HTMLFormElement>('controls'));
const picture = new StudioPicture($('picture'));
/** Overlay images the API fetched, by the URL typed. */
const images = new Map<string, string>();
const imageErrors = new Map<string, string>();
let checkTimer: ReturnType<typeof setTimeout> | undefined;
let checks = 0;

function caption(s: StudioState): string {
  const people = `${s.participants} participant${s.participants > 1 ? 's' : ''}`;
  return `${s.width} × ${s.height} · ${s.layout} · ${s.theme} · ${people}`;
}

/** The picture at once; the API's rules a moment after the typing stops. */
function changed(): void {
  const s = form.read();
  $('caption').textContent = caption(s);
  if (Number.isInteger(s.width) && Number.isInteger(s.height) && s.width > 0 && s.height > 0 && s.width <= 4096 && s.height <= 4096) {
    picture.show(previewOf(s, images));
  }
  void loadImages(s);
  // a check still under way is of settings no longer shown: its answer would mark a field just mended
  checks++;
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => void check(), 250);
}

/** Asks the API whether these settings may be saved; shows its answer where it belongs. */
async function check(): Promise<boolean> {
  const s = form.read();
  const n = ++checks;
  if (!api.token) {
    checked(s, undefined);
    return true;
  }
  try {
    await api.check(checkBody(s));
    if (n === checks) checked(s, undefined);
    return true;
  } catch (err) {
    if (n === checks) checked(s, err);
    return false;
  }
}

/** The check's answer by the controls; a picture of settings the API refuses is shown dimmed (a recording could not have them). */
function checked(s: StudioState, err: unknown): void {
  $('picture').classList.toggle('refused', err instanceof ApiRefusal && err.status === 400);
  showRefusal(s, err);
}

function showRefusal(s: StudioState, err: unknown): void {
  const errors: Partial<Record<Field | 'general', string>> = {};
  for (const [url, message] of imageErrors) {
    if (s.image?.url === url) errors['overlays.imageWatermark.url'] = message;
    if (s.background && 'imageUrl' in s.background && s.background.imageUrl === url) errors['overlays.background.imageUrl'] = message;
  }
  if (err) {
    const message = err instanceof ApiRefusal ? `${err.message} (${err.code})` : String((err as Error).message);
    const named = err instanceof ApiRefusal ? fieldOfDetails(err.details) : undefined;
    const fields = named ? [named] : err instanceof ApiRefusal ? fieldsOfMessage(err.message, s) : [];
    if (fields.length === 0) errors.general = message;
    for (const f of fields) errors[f] = message;
  }
  form.showErrors(errors);
}

/** The overlay images of `s` the picture has not got yet, through the API (allowed origins and presets' assets only). */
async function loadImages(s: StudioState): Promise<void> {
  const urls = [s.image?.url, s.background && 'imageUrl' in s.background ? s.background.imageUrl : undefined];
  for (const url of urls) {
    if (!url || images.has(url) || imageErrors.has(url) || !api.token || !/^(https?|asset):\/\/[^/]+\/./.test(url)) continue;
    try {
      images.set(url, await api.image(url));
    } catch (err) {
      imageErrors.set(url, err instanceof ApiRefusal ? `${err.message} (${err.code})` : String(err));
    }
    // draw (or say why not) with what arrived, if the URL is still the one typed
    const now = form.read();
    if (now.image?.url === url || (now.background && 'imageUrl' in now.background && now.background.imageUrl === url)) changed();
  }
}

// ---- the token --------------------------------------------------------------------------
function authStatus(text: string, kind: 'ok' | 'bad' | '' = ''): void {
  const el = $('auth-status');
  el.textContent = text;
  el.dataset.kind = kind;
  $('forget').hidden = !api.token;
}

async function connect(): Promise<void> {
  try {
    await refreshPresets();
    authStatus('Connected', 'ok');
  } catch (err) {
    authStatus(err instanceof ApiRefusal ? `${err.message} (${err.code})` : String(err), 'bad');
  }
  imageErrors.clear();
  changed();
}

$<HTMLFormElement>('auth').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('token');
  const token = input.value.trim();
  if (!token) return;
  api.token = token;
  input.value = '';
  input.placeholder = 'token kept for this tab';
  void connect();
});
$('forget').addEventListener('click', () => {
  api.token = null;
  $<HTMLInputElement>('token').placeholder = 'a bearer JWT or a service key';
  renderPresets([]);
  authStatus('');
  changed();
});

// ---- presets ----------------------------------------------------------------------------
async function refreshPresets(): Promise<void> {
  renderPresets(await api.listPresets());
}

function renderPresets(presets: PresetView[]): void {
  const list = $('preset-list');
  if (presets.length === 0) {
    const empty = document.createElement('li');
    empty.className = 'empty';
    empty.textContent = api.token ? 'No presets yet: name the settings above and save them.' : 'Connect with a token to see and save presets.';
    list.replaceChildren(empty);
    return;
  }
  list.replaceChildren(
    ...presets.map((p) => {
      const item = document.createElement('li');
      item.dataset.preset = p.name;
      const load = document.createElement('button');
      load.type = 'button';
      load.className = 'load';
      load.title = `Load ${p.name} into the controls`;
      const name = document.createElement('strong');
      name.textContent = p.name;
      const summary = document.createElement('span');
      summary.textContent = presetSummary(p);
      load.append(name, summary);
      load.addEventListener('click', () => {
        form.write(stateFromPreset(p, form.read()));
        (document.querySelector('#save [name=name]') as HTMLInputElement).value = p.name;
        saveStatus(`Loaded ${p.name}`);
        changed();
      });
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'delete';
      del.title = `Delete ${p.name}`;
      del.setAttribute('aria-label', `Delete ${p.name}`);
      del.textContent = '×';
      del.addEventListener('click', () => void remove(p.name));
      item.append(load, del);
      return item;
    }),
  );
}

function saveStatus(text: string, kind: 'ok' | 'bad' | '' = ''): void {
  const el = $('save-status');
  el.textContent = text;
  el.dataset.kind = kind;
}

async function save(): Promise<void> {
  const s = form.read();
  const name = (document.querySelector('#save [name=name]') as HTMLInputElement).value.trim();
  if (!name) {
    form.showErrors({ name: 'Give the preset a name first' });
    return;
  }
  saveStatus('Saving…');
  try {
    const saved = await api.savePreset(name, presetBody(s));
    saveStatus(`Saved ${saved.name}`, 'ok');
    showRefusal(s, undefined);
    await refreshPresets();
  } catch (err) {
    saveStatus('Not saved', 'bad');
    // a bad name is the name field's, whatever the message says
    if (err instanceof ApiRefusal && /preset name|body\.name|path\.name/.test(err.message)) form.showErrors({ name: `${err.message} (${err.code})` });
    else showRefusal(s, err);
  }
}

async function remove(name: string): Promise<void> {
  try {
    await api.deletePreset(name);
    saveStatus(`Deleted ${name}`, 'ok');
    await refreshPresets();
  } catch (err) {
    saveStatus(err instanceof ApiRefusal ? `${err.message} (${err.code})` : String(err), 'bad');
  }
}

$<HTMLFormElement>('save').addEventListener('submit', (e) => {
  e.preventDefault();
  void save();
});

// ---- start ------------------------------------------------------------------------------
form.write(DEFAULT_STATE);
form.onChange(changed);
renderPresets([]);
if (api.token) {
  $<HTMLInputElement>('token').placeholder = 'token kept for this tab';
  void connect();
} else {
  authStatus('Not connected: paste a token to check and save');
  changed();
}

declare global {
  interface Window {
    studio: { picture: StudioPicture; check: () => Promise<boolean> };
  }
}
/** For the tests and the console: how many pictures were drawn, and a check on demand. */
window.studio = { picture, check };
