import { AppError } from '../../src/errors';
import { RecordingEventBus } from '../../src/recordings/events';
import { DEFAULT_RECORDING_OPTIONS, parseStartOptions, recordingOptionsSchema, resolveRecordingOptions, sameResolvedOptions } from '../../src/recordings/options';
import { parseRecordingJob, storedOptions, storedThumbnails } from '../../src/recordings/stored-data';
import { authorize } from '../../src/recordings/permissions';
import { ACTIVE_STATUSES, assertTransition, canTransition, RECORDING_STATUSES, stampedColumn, STATUS_TIMESTAMP, TRANSITIONS } from '../../src/recordings/status';
import { signWebhook, verifyWebhookSignature } from '../../src/recordings/webhooks';

describe('state machine', () => {
  test('the documented path and the failure exits', () => {
    const path = ['STARTING', 'RECORDING', 'STOPPING', 'PROCESSING', 'UPLOADING', 'COMPLETED', 'DELETED'] as const;
    for (let i = 0; i + 1 < path.length; i++) expect(canTransition(path[i]!, path[i + 1]!)).toBe(true);
    for (const s of ['STARTING', 'RECORDING', 'STOPPING', 'PROCESSING', 'UPLOADING'] as const) expect(canTransition(s, 'FAILED')).toBe(true);
    expect(canTransition('FAILED', 'DELETED')).toBe(true);
  });
  test('no way back, nothing out of DELETED, no self-loops', () => {
    expect(TRANSITIONS.DELETED).toEqual([]);
    for (const s of RECORDING_STATUSES) expect(canTransition(s, s)).toBe(false);
    expect(canTransition('COMPLETED', 'RECORDING')).toBe(false);
    expect(canTransition('RECORDING', 'STARTING')).toBe(false);
    expect(canTransition('RECORDING', 'COMPLETED')).toBe(false);
    expect(canTransition('STARTING', 'DELETED')).toBe(false);
    expect(() => assertTransition('COMPLETED', 'RECORDING')).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION' }));
  });
  test('every status has a timestamp column; active statuses are those of the unique index', () => {
    expect(new Set(Object.values(STATUS_TIMESTAMP)).size).toBe(RECORDING_STATUSES.length);
    expect(ACTIVE_STATUSES).toEqual(['STARTING', 'RECORDING', 'PAUSED', 'STOPPING']);
  });
  test('pause and resume: RECORDING <-> PAUSED, a paused recording stops or fails, nothing else', () => {
    expect(canTransition('RECORDING', 'PAUSED')).toBe(true);
    expect(canTransition('PAUSED', 'RECORDING')).toBe(true);
    expect(TRANSITIONS.PAUSED).toEqual(['RECORDING', 'STOPPING', 'FAILED']);
    for (const s of ['STARTING', 'STOPPING', 'PROCESSING', 'UPLOADING', 'COMPLETED', 'FAILED', 'DELETED'] as const) expect(canTransition(s, 'PAUSED')).toBe(false);
    expect(canTransition('PAUSED', 'PROCESSING')).toBe(false);
  });
  test("a pause stamps pausedAt; a resume stamps nothing (recordingAt stays the file's time 0)", () => {
    expect(stampedColumn(['RECORDING'], 'PAUSED')).toBe('pausedAt');
    expect(stampedColumn(['PAUSED'], 'RECORDING')).toBeUndefined();
    expect(stampedColumn(['STARTING'], 'RECORDING')).toBe('recordingAt');
    expect(stampedColumn(['STARTING', 'RECORDING', 'PAUSED'], 'STOPPING')).toBe('stoppingAt');
  });
});

describe('recording options', () => {
  const limits = { maxDurationSeconds: 3600 };
  test('defaults and presets', () => {
    expect(resolveRecordingOptions({}, limits)).toEqual({ options: { width: 1280, height: 720, fps: 30, format: 'mp4', layout: 'grid', theme: 'dark' }, outputFormat: 'mp4', maxDurationSeconds: 3600 });
    expect(resolveRecordingOptions({ resolution: '1080p', format: 'webm', layout: 'speaker', fps: 25, videoBitrate: 2_000_000 }, limits).options).toEqual({
      width: 1920,
      height: 1080,
      fps: 25,
      format: 'mkv',
      layout: 'speaker',
      theme: 'dark',
      videoBitrate: 2_000_000,
    });
    expect(resolveRecordingOptions({ resolution: '1080p-portrait', layout: 'single-light' }, limits).options).toMatchObject({ width: 1080, height: 1920, layout: 'single-speaker', theme: 'light' });
    expect(resolveRecordingOptions({ width: 720, height: 1280, layout: 'presentation', theme: 'light' }, limits).options).toMatchObject({ width: 720, height: 1280, theme: 'light' });
    expect(resolveRecordingOptions({ width: 640, height: 360 }, limits).options).toMatchObject({ width: 640, height: 360 });
  });
  test.each([
    [{ width: 641, height: 360 }],
    [{ width: 640 }],
    [{ width: 4096, height: 2160 }],
    [{ resolution: '720p' as const, width: 640, height: 360 }],
    [{ fps: 60 }],
    [{ audioBitrate: 1 }],
    [{ width: 3840, height: 2160 }],
    [{ width: 1920, height: 1081 }],
    [{ width: 1920, height: 1920 }],
    [{ width: 1082, height: 1920 }],
    [{ width: 100, height: 720 }],
    [{ layout: 'speaker-light', theme: 'dark' }],
    [{ theme: 'sepia' }],
    [{ maxDurationSeconds: 3601 }],
    [{ maxDurationSeconds: 0 }],
    [{ format: 'avi' }],
    [{ layout: 'mosaic' }],
    [{ layout: 'Grid' }],
  ])('refuses %j with UNSUPPORTED_OPTION', (input) => {
    expect(() => resolveRecordingOptions(parseStartOptions(input), limits)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPTION', status: 400 }));
  });
  test('messages name the field as the caller knows it (the CLI its flags)', () => {
    const flag = (f: string) => `--${f}`;
    expect(() => parseStartOptions({ layout: 'mosaic' }, flag)).toThrow(
      '--layout must be one of grid, speaker, single-speaker, presentation, optionally ending in -dark or -light (single is single-speaker)',
    );
    const resolve = (input: object) => () => resolveRecordingOptions(parseStartOptions(input, flag), { ...limits, name: flag });
    expect(resolve({ width: 3840, height: 2160 })).toThrow('--width must be an integer from 120 to 1920');
    expect(resolve({ width: 1920, height: 1920 })).toThrow('--width x --height must be at most 2073600 pixels (1920x1080 or 1080x1920)');
    expect(resolve({ layout: 'grid-light', theme: 'dark' })).toThrow('--layout grid-light is light but --theme is dark');
    expect(() => resolveRecordingOptions(parseStartOptions({ fps: 60 }, flag), { ...limits, name: flag })).toThrow('--fps must be one of 15, 24, 25, 30');
  });
  test('the resolved options are what the stored-options schema accepts', () => {
    for (const input of [{}, { resolution: '1080p', fps: 15, layout: 'single', format: 'ogg', audioBitrate: 64_000 }, { resolution: '720p-portrait', layout: 'presentation-light' }]) {
      const { options } = resolveRecordingOptions(parseStartOptions(input), limits);
      expect(recordingOptionsSchema.parse(options)).toEqual(options);
    }
    expect(recordingOptionsSchema.safeParse({ ...DEFAULT_RECORDING_OPTIONS, layout: 'mosaic' }).success).toBe(false);
    expect(recordingOptionsSchema.safeParse({ ...DEFAULT_RECORDING_OPTIONS, width: 1920, height: 1920 }).success).toBe(false);
  });
  test('options stored before themes and single-speaker read as they were recorded', () => {
    const { theme: _theme, ...old } = { ...DEFAULT_RECORDING_OPTIONS, layout: 'single' };
    expect(recordingOptionsSchema.parse(old)).toEqual({ ...old, layout: 'single-speaker' });
  });
  test('a custom layout page only from an origin the operator allowed', () => {
    const allowed = { ...limits, layoutOrigins: ['https://layouts.example.com', 'http://127.0.0.1:3000'] };
    expect(resolveRecordingOptions({ customLayoutUrl: 'https://layouts.example.com/a/b.html?theme=dark' }, allowed).options.customLayoutUrl).toBe(
      'https://layouts.example.com/a/b.html?theme=dark',
    );
    expect(resolveRecordingOptions({ customLayoutUrl: 'http://127.0.0.1:3000/' }, allowed).options.customLayoutUrl).toBe('http://127.0.0.1:3000/');
    for (const url of ['https://evil.example.com/x', 'http://layouts.example.com/x', 'https://layouts.example.com:8443/x', 'http://127.0.0.1:3001/']) {
      expect(() => resolveRecordingOptions({ customLayoutUrl: url }, allowed)).toThrow(expect.objectContaining({ code: 'LAYOUT_URL_NOT_ALLOWED', status: 400 }));
    }
    // nothing is allowed unless the operator said so
    expect(() => resolveRecordingOptions({ customLayoutUrl: 'https://layouts.example.com/' }, limits)).toThrow(expect.objectContaining({ code: 'LAYOUT_URL_NOT_ALLOWED' }));
    for (const url of ['layouts.example.com/x', 'javascript:alert(1)', 'file:///etc/passwd', 'https://user:pw@layouts.example.com/']) {
      expect(() => resolveRecordingOptions({ customLayoutUrl: url }, allowed)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPTION' }));
    }
  });
  test('webm and the audio-only formats: the recorder writes mkv, the delivery is webm, m4a or ogg', () => {
    for (const format of ['webm', 'm4a', 'ogg'] as const) {
      const r = resolveRecordingOptions({ format }, limits);
      expect(r.options.format).toBe('mkv');
      expect(r.outputFormat).toBe(format);
    }
    expect(resolveRecordingOptions({ format: 'mp4' }, limits).options.format).toBe('mp4');
    // same recorder options, different delivery: not the same request
    expect(sameResolvedOptions(resolveRecordingOptions({ format: 'm4a' }, limits), resolveRecordingOptions({ format: 'mkv' }, limits))).toBe(false);
  });
  test('sameResolvedOptions ignores key order', () => {
    const a = resolveRecordingOptions({ fps: 25, format: 'mkv' }, limits);
    const b = resolveRecordingOptions({ format: 'mkv', fps: 25 }, limits);
    expect(sameResolvedOptions(a, b)).toBe(true);
    expect(sameResolvedOptions(a, resolveRecordingOptions({ format: 'mkv' }, limits))).toBe(false);
  });
});

describe('stored data is parsed when read, never cast', () => {
  const id = '6b1c2a52-43c4-4d0e-8d5e-6f0b1c2a5243';
  const job = { id, callId: 'c1', roomName: 'room-1', outputPath: '/tmp/x.mp4', options: DEFAULT_RECORDING_OPTIONS, maxDurationSeconds: 60, requestedAt: 1 };
  test('options and thumbnails round-trip; a row that breaks the rules is INTERNAL, naming the recording', () => {
    expect(storedOptions(JSON.parse(JSON.stringify(DEFAULT_RECORDING_OPTIONS)), id)).toEqual(DEFAULT_RECORDING_OPTIONS);
    expect(() => storedOptions({ ...DEFAULT_RECORDING_OPTIONS, layout: 'mosaic' }, id)).toThrow(expect.objectContaining({ code: 'INTERNAL', message: expect.stringContaining(`recording ${id}`) }));
    expect(() => storedOptions({}, id)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(storedThumbnails(null, id)).toEqual([]);
    expect(storedThumbnails([{ key: 'k/t1.jpg', atMs: 0, kind: 'poster' }], id)).toEqual([{ key: 'k/t1.jpg', atMs: 0, kind: 'poster' }]);
    expect(() => storedThumbnails([{ key: 'k', atMs: 'soon' }], id)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
  test('a dispatched job is parsed off the queue: an unknown layout or a foreign id is refused', () => {
    expect(parseRecordingJob(JSON.stringify(job))).toEqual(job);
    expect(() => parseRecordingJob(JSON.stringify({ ...job, options: { ...job.options, layout: 'mosaic' } }))).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => parseRecordingJob(JSON.stringify({ ...job, id: '../x' }))).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => parseRecordingJob('{"id":')).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('permissions', () => {
  const call = { id: 'c', roomName: 'r', hostId: 'h', participants: [{ userId: 'p' }] } as never;
  test('host controls; participants read; others and missing calls look the same', () => {
    expect(authorize(call, { kind: 'user', userId: 'h' }, 'control')).toBe(call);
    expect(authorize(call, { kind: 'service', userId: 'p' }, 'read')).toBe(call);
    expect(() => authorize(call, { kind: 'user', userId: 'p' }, 'control')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    const strangers = [() => authorize(call, { kind: 'user', userId: 'x' }, 'read'), () => authorize(null, { kind: 'user', userId: 'h' }, 'read'), () => authorize(call, { kind: 'service', userId: null }, 'read')];
    for (const f of strangers) expect(f).toThrow(new AppError('NOT_FOUND', 'call not found'));
  });
});

describe('event bus and webhook signatures', () => {
  test('a throwing listener breaks neither the emitter nor the others', () => {
    const errors: unknown[] = [];
    const bus = new RecordingEventBus((e) => errors.push(e));
    const seen: string[] = [];
    bus.on('recordingDeleted', () => {
      throw new Error('boom');
    });
    const off = bus.on('recordingDeleted', (p) => seen.push(p.recordingId));
    bus.onAny((name) => seen.push(name));
    const p = { recordingId: 'r', callId: 'c', roomName: 'x', status: 'DELETED' as const, at: '' };
    expect(() => bus.emit('recordingDeleted', p)).not.toThrow();
    off();
    bus.emit('recordingDeleted', p);
    expect(seen).toEqual(['r', 'recordingDeleted', 'recordingDeleted']);
    expect(errors).toHaveLength(2);
  });
  test('signatures verify, and fail for another body, secret or an old timestamp', () => {
    const now = Date.now();
    const t = Math.floor(now / 1000);
    const header = signWebhook('s3cret', '{"a":1}', t);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature('s3cret', header, '{"a":1}', 300, now)).toBe(true);
    expect(verifyWebhookSignature('s3cret', header, '{"a":2}', 300, now)).toBe(false);
    expect(verifyWebhookSignature('other', header, '{"a":1}', 300, now)).toBe(false);
    expect(verifyWebhookSignature('s3cret', header, '{"a":1}', 300, now + 600_000)).toBe(false);
    expect(verifyWebhookSignature('s3cret', undefined, '{"a":1}')).toBe(false);
    expect(verifyWebhookSignature('s3cret', 't=1,v1=zz', '{"a":1}')).toBe(false);
  });
});
