import { applyLiveChange, liveChangeSchema } from '../../src/recordings/live-change';
import { DEFAULT_RECORDING_OPTIONS, resolveRecordingOptions, type RecordingOptions } from '../../src/recordings/options';

const current: RecordingOptions = { ...DEFAULT_RECORDING_OPTIONS };
const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'none';
};

describe('applyLiveChange', () => {
  test('a layout spelling carries its theme; a layout alone keeps the theme', () => {
    expect(applyLiveChange(current, { layout: 'speaker-light' })).toMatchObject({ layout: 'speaker', theme: 'light' });
    expect(applyLiveChange({ ...current, theme: 'light' }, { layout: 'single' })).toMatchObject({ layout: 'single-speaker', theme: 'light' });
    expect(applyLiveChange(current, { participants: { exclude: ['bob'] } }).participants).toEqual({ exclude: ['bob'] });
  });
  test('refusals have their codes', () => {
    expect(code(() => applyLiveChange(current, {}))).toBe('CHANGE_EMPTY');
    expect(code(() => applyLiveChange(current, { participants: { include: ['a'], exclude: ['b'] } }))).toBe('PARTICIPANTS_FILTER_INVALID');
    expect(code(() => applyLiveChange(current, { layout: 'grid-light', theme: 'dark' }))).toBe('UNSUPPORTED_OPTION');
    expect(code(() => applyLiveChange({ ...current, customLayoutUrl: 'https://l.example/' }, { participants: { include: ['a'] } }))).toBe('UNSUPPORTED_OPTION');
    expect(liveChangeSchema.safeParse({ width: 640 }).success).toBe(false);
  });
  test('the start request takes participants with the same rule', () => {
    expect(resolveRecordingOptions({ participants: { include: ['alice'] } }, { maxDurationSeconds: 60 }).options.participants).toEqual({ include: ['alice'] });
    expect(code(() => resolveRecordingOptions({ participants: {} }, { maxDurationSeconds: 60 }))).toBe('PARTICIPANTS_FILTER_INVALID');
  });
});
