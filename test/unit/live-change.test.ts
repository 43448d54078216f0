import { applyLiveChange, liveChangeSchema } from '../../src/recordings/live-change';
import { DEFAULT_RECORDING_OPTIONS, resolveRecordingOptions, type RecordingOptions } from '../../src/recordings/options';
import { errorCode } from '../helpers/error-code';

const current: RecordingOptions = { ...DEFAULT_RECORDING_OPTIONS };
const limits = { assetOrigins: ['https://assets.example.com'] };

describe('applyLiveChange', () => {
  test('a layout spelling carries its theme; a layout alone keeps the theme', () => {
    expect(applyLiveChange(current, { layout: 'speaker-light' }, limits)).toMatchObject({ layout: 'speaker', theme: 'light' });
    expect(applyLiveChange({ ...current, theme: 'light' }, { layout: 'single' }, limits)).toMatchObject({ layout: 'single-speaker', theme: 'light' });
    expect(applyLiveChange(current, { participants: { exclude: ['bob'] } }, limits).participants).toEqual({ exclude: ['bob'] });
  });
  test('refusals have their codes', () => {
    expect(errorCode(() => applyLiveChange(current, {}, limits))).toBe('CHANGE_EMPTY');
    expect(errorCode(() => applyLiveChange(current, { participants: { include: ['a'], exclude: ['b'] } }, limits))).toBe('PARTICIPANTS_FILTER_INVALID');
    expect(errorCode(() => applyLiveChange(current, { layout: 'grid-light', theme: 'dark' }, limits))).toBe('UNSUPPORTED_OPTION');
    expect(errorCode(() => applyLiveChange({ ...current, customLayoutUrl: 'https://l.example/' }, { participants: { include: ['a'] } }, limits))).toBe('UNSUPPORTED_OPTION');
    expect(liveChangeSchema.safeParse({ width: 640 }).success).toBe(false);
  });
  test('the start request takes participants with the same rule', () => {
    expect(resolveRecordingOptions({ participants: { include: ['alice'] } }, { maxDurationSeconds: 60 }).options.participants).toEqual({ include: ['alice'] });
    expect(errorCode(() => resolveRecordingOptions({ participants: {} }, { maxDurationSeconds: 60 }))).toBe('PARTICIPANTS_FILTER_INVALID');
  });
  test('overlays: replaced whole, images only from allowed origins, not over a custom page', () => {
    const logo = { imageWatermark: { url: 'https://assets.example.com/logo.png', position: 'top-right' as const, size: 0.15, opacity: 1 } };
    expect(applyLiveChange(current, { overlays: logo }, limits).overlays).toEqual(logo);
    expect(applyLiveChange({ ...current, overlays: { nameLabels: true } }, { overlays: {} }, limits).overlays).toEqual({});
    expect(errorCode(() => applyLiveChange(current, { overlays: { background: { imageUrl: 'https://elsewhere.example/bg.png' } } }, limits))).toBe('ASSET_URL_NOT_ALLOWED');
    expect(errorCode(() => applyLiveChange({ ...current, customLayoutUrl: 'https://l.example/' }, { overlays: { nameLabels: true } }, limits))).toBe('UNSUPPORTED_OPTION');
    expect(resolveRecordingOptions({ overlays: logo }, { maxDurationSeconds: 60, assetOrigins: limits.assetOrigins }).options.overlays).toEqual(logo);
    expect(errorCode(() => resolveRecordingOptions({ overlays: logo }, { maxDurationSeconds: 60 }))).toBe('ASSET_URL_NOT_ALLOWED');
  });
});
