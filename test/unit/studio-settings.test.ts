import { DEFAULT_STATE, fieldsOfMessage, presetBody, previewOf, stateFromPreset, type StudioState } from '../../recorder-page/src/studio-settings';
import { presetSettings, presetSettingsInput } from '../../src/recordings/presets';

/** The studio's state as a preset body and back, and where the API's messages go. */
const full: StudioState = {
  ...DEFAULT_STATE,
  layout: 'presentation',
  theme: 'light',
  width: 720,
  height: 1280,
  fps: 25,
  participants: 5,
  screenShare: 1,
  text: { text: 'ACME', position: 'bottom-left', size: 0.05, colour: '#ffffff', opacity: 0.8 },
  image: { url: 'https://assets.example.com/logo.png', position: 'top-right', size: 0.15, opacity: 1 },
  nameLabels: true,
  clock: { position: 'top-left', timeZone: 'Europe/Berlin' },
  background: { colour: '#10141a' },
};

describe('studio settings', () => {
  it('are a body the preset rules take as they are, and come back from the stored preset', () => {
    const body = presetBody(full);
    const stored = presetSettings(presetSettingsInput.parse(body), ['https://assets.example.com']);
    const back = stateFromPreset({ name: 'x', ...stored }, full);
    expect(back).toEqual(full);
  });

  it('leave out of the picture an image not yet loaded, and draw a loaded one from its data: URL', () => {
    const s: StudioState = { ...full, background: { imageUrl: 'https://assets.example.com/bg.jpg' } };
    expect(previewOf(s, new Map()).overlays).toEqual({ textWatermark: full.text, nameLabels: true, clock: full.clock });
    const loaded = previewOf(s, new Map([['https://assets.example.com/logo.png', 'data:image/png;base64,AA'], ['https://assets.example.com/bg.jpg', 'data:image/jpeg;base64,AA']]));
    expect(loaded.overlays?.imageWatermark?.url).toBe('data:image/png;base64,AA');
    expect(loaded.overlays?.background).toEqual({ imageUrl: 'data:image/jpeg;base64,AA' });
  });

  it('drop a participant number beyond the participants from the picture', () => {
    expect(previewOf({ ...full, participants: 3, speaking: 4 }, new Map()).speaking).toBeUndefined();
  });

  it.each([
    ['width must be an integer from 120 to 1920', ['width']],
    ['width x height must be at most 2073600 pixels (1920x1080 or 1080x1920)', ['width']],
    ['body.overlays.textWatermark.colour: must be a colour like #1a2b3c', ['overlays.textWatermark.colour']],
    ['body.overlays.clock.timeZone: must be an IANA time zone such as Europe/Berlin', ['overlays.clock.timeZone']],
    ['body.overlays.background: must be { colour } or { imageUrl }', ['overlays.background.colour']],
    ['body.fps: x; body.layout: y', ['fps', 'layout']],
    ['images from https://assets.example.com are not allowed (the operator lists allowed origins in RECORDER_ASSET_ORIGINS)', ['overlays.imageWatermark.url']],
    ["speaking must be a participant's number, from 1 to 3", ['speaking']],
    ['only a service key or an admin may change layout presets', []],
  ])('put %j under %j', (message, fields) => {
    expect(fieldsOfMessage(message, full)).toEqual(fields);
  });
});
