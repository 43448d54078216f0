import { allowedAssetUrl, overlayImages, overlaysSchema } from '../../src/recordings/overlays';

describe('overlays option', () => {
  it('fills defaults for a text watermark', () => {
    expect(overlaysSchema.parse({ textWatermark: { text: 'ACME' } })).toEqual({
      textWatermark: { text: 'ACME', position: 'bottom-right', size: 0.04, colour: '#ffffff', opacity: 0.8 },
    });
  });

  it.each([
    ['empty text', { textWatermark: { text: '' } }],
    ['text too long', { textWatermark: { text: 'x'.repeat(121) } }],
    ['unknown position', { clock: { position: 'middle' } }],
    ['opacity above 1', { imageWatermark: { url: 'https://a.example', opacity: 1.5 } }],
    ['size too small', { imageWatermark: { url: 'https://a.example', size: 0.001 } }],
    ['bad colour', { background: { colour: 'red' } }],
    ['colour and image both', { background: { colour: '#000000', imageUrl: 'https://a.example/b.png' } }],
    ['unknown field', { sparkles: true }],
    ['url too long', { imageWatermark: { url: `https://a.example/${'x'.repeat(2000)}` } }],
  ])('refuses %s', (_name, input) => {
    expect(overlaysSchema.safeParse(input).success).toBe(false);
  });

  it('lists the images it asks the page to load, each with the field that names it', () => {
    const o = overlaysSchema.parse({ imageWatermark: { url: 'https://a.example/w.png' }, background: { imageUrl: 'https://a.example/bg.png' }, nameLabels: true });
    expect(overlayImages(o)).toEqual([
      { path: 'overlays.imageWatermark.url', url: 'https://a.example/w.png' },
      { path: 'overlays.background.imageUrl', url: 'https://a.example/bg.png' },
    ]);
  });

  it('allows images only from listed origins', () => {
    expect(allowedAssetUrl('https://assets.example.com/logo.png', ['https://assets.example.com'])).toBe('https://assets.example.com/logo.png');
    expect(() => allowedAssetUrl('https://evil.example.com/logo.png', ['https://assets.example.com'])).toThrow(expect.objectContaining({ code: 'ASSET_URL_NOT_ALLOWED', status: 400 }));
    expect(() => allowedAssetUrl('file:///etc/passwd', ['https://assets.example.com'])).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPTION' }));
    expect(() => allowedAssetUrl('https://u:p@assets.example.com/x.png', ['https://assets.example.com'])).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPTION' }));
  });
});
