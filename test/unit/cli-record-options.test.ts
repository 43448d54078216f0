import { parseFormat, resolveFlags, type RecordCommandOptions } from '../../src/cli/record';

/** `recorder record` flags go through the same option rules as the API's start body. */
describe('record command flags', () => {
  const flags = (o: Partial<RecordCommandOptions> = {}): RecordCommandOptions => ({ room: 'r', output: 'x.mp4', width: 1280, height: 720, fps: 30, layout: 'grid', ...o });
  test('defaults resolve to the recorder options the API would give', () => {
    expect(resolveFlags(flags(), 'mp4', 3600).options).toEqual({ width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid', theme: 'dark' });
    expect(resolveFlags(flags({ tracks: 'audio+video' }), 'mp4', 3600).options).toMatchObject({ tracks: 'audio+video' });
    expect(resolveFlags(flags({ layout: 'speaker-light', width: 1080, height: 1920 }), 'mp4', 3600).options).toMatchObject({ layout: 'speaker', theme: 'light', width: 1080, height: 1920 });
    expect(resolveFlags(flags({ layoutUrl: 'http://127.0.0.1:9/page.html', duration: 5 }), 'mkv', 3600)).toMatchObject({
      options: { format: 'mkv', customLayoutUrl: 'http://127.0.0.1:9/page.html' },
      maxDurationSeconds: 5,
    });
  });
  test.each([
    [{ layout: 'mosaic' }, '--layout must be one of grid, speaker, single-speaker, presentation'],
    [{ width: 3840, height: 2160 }, '--width must be an integer from 120 to 1920'],
    [{ layout: 'grid-dark', theme: 'light' }, '--layout grid-dark is dark but --theme is light'],
    [{ width: 641 }, '--width and --height must be even'],
    [{ fps: 60 }, '--fps must be one of 15, 24, 25, 30'],
    [{ duration: 2.5 }, '--duration'],
    [{ duration: 7200 }, '--duration must be an integer from 1 to 3600'],
    [{ layoutUrl: 'file:///etc/passwd' }, '--layout-url must be an absolute http(s) URL'],
    [{ tracks: 'video' }, '--tracks must be one of "audio", "audio+video"'],
    [{ tracks: 'audio', layoutUrl: 'http://127.0.0.1:9/page.html' }, '--tracks cannot be recorded with a custom layout page'],
  ])('refuses %j: UNSUPPORTED_OPTION naming the flag', (o, message) => {
    expect(() => resolveFlags(flags(o), 'mp4', 3600)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPTION', message: expect.stringContaining(message) }));
  });
  test('the format comes from --format or the output name, among what the recorder writes', () => {
    expect(parseFormat(undefined, 'a.webm')).toBe('webm');
    expect(parseFormat('mkv', 'a.mp4')).toBe('mkv');
    expect(() => parseFormat(undefined, 'a.ogg')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPTION' }));
  });
});
