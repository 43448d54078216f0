import { loadConfig } from '../../src/config';

/** RECORDING_RETENTION (a duration) and the older RECORDING_RETENTION_DAYS, as config.recordings.retentionMs. */
const retention = (env: Record<string, string>) => loadConfig(env).recordings.retentionMs;
const H = 3_600_000;

describe('retention setting', () => {
  test('durations in seconds, minutes, hours and days', () => {
    expect(retention({ RECORDING_RETENTION: '45s' })).toBe(45_000);
    expect(retention({ RECORDING_RETENTION: '90m' })).toBe(1.5 * H);
    expect(retention({ RECORDING_RETENTION: '36h' })).toBe(36 * H);
    expect(retention({ RECORDING_RETENTION: '7d' })).toBe(7 * 24 * H);
  });

  test('RECORDING_RETENTION_DAYS still works; 30 days when neither is set; empty means unset', () => {
    expect(retention({ RECORDING_RETENTION_DAYS: '2' })).toBe(48 * H);
    expect(retention({})).toBe(30 * 24 * H);
    expect(retention({ RECORDING_RETENTION: '', RECORDING_RETENTION_DAYS: '' })).toBe(30 * 24 * H);
  });

  test('both set: accepted when they agree, CONFIG_INVALID naming both when they do not', () => {
    expect(retention({ RECORDING_RETENTION: '48h', RECORDING_RETENTION_DAYS: '2' })).toBe(48 * H);
    expect(() => retention({ RECORDING_RETENTION: '36h', RECORDING_RETENTION_DAYS: '2' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/RECORDING_RETENTION=36h and RECORDING_RETENTION_DAYS=2 disagree/) }),
    );
  });

  test.each(['36', 'h', '0h', '-1h', '1.5h', '36 h', '36H', '2w', '1h30m', '36500d1', '36501d'])('rejects %p', (value) => {
    expect(() => retention({ RECORDING_RETENTION: value })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('RECORDING_RETENTION') }),
    );
  });

  test('RECORDING_RETENTION_DAYS stays a whole number of days', () => {
    for (const days of ['0', '1.5', 'x']) expect(() => retention({ RECORDING_RETENTION_DAYS: days })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
