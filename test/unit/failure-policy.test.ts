import { loadConfig } from '../../src/config';
import { AppError, isRefusal, type ErrorCode } from '../../src/errors';
import type { RecordingResult } from '../../src/recordings/contract';
import {
  afterFailedAttempt, BACKOFF_JITTER, endedEarly, exhausted, exponentialBackoff, liveRecordingEnd, shouldRetry, stoppedBeforeStart,
  workerLost, type RetryPolicy,
} from '../../src/recordings/failure-policy';

const policy: RetryPolicy = { maxAttempts: 5, baseMs: 1000, maxMs: 10_000 };
const err = (code: ErrorCode) => new AppError(code, code.toLowerCase());

describe('the retry decision', () => {
  test('the destination failing (storage down, a full disk, a receiver down) is retried until the attempts run out', () => {
    for (const code of ['STORAGE_UNAVAILABLE', 'UPLOAD_FAILED', 'DISK_FULL', 'WEBHOOK_UNREACHABLE'] as const) {
      expect(err(code).fault).toBe('destination');
      expect([1, 2, 3, 4].map((a) => shouldRetry(err(code), a, policy))).toEqual([true, true, true, true]);
      expect(shouldRetry(err(code), 5, policy)).toBe(false);
    }
  });

  test('the destination refusing (a 4xx) is final', () => {
    expect(shouldRetry(err('STORAGE_REJECTED'), 1, policy)).toBe(false);
    expect(shouldRetry(err('WEBHOOK_REJECTED'), 1, policy)).toBe(false);
  });

  test("the caller's faults are never retried", () => {
    for (const code of ['CONFIG_INVALID', 'VALIDATION_ERROR', 'UNSUPPORTED_OPTION', 'NOT_FOUND', 'RECORDING_ABORTED'] as const) {
      expect(err(code).fault).toBe('caller');
      expect(shouldRetry(err(code), 1, policy)).toBe(false);
    }
  });

  test("the service's own trouble is retried (a shutdown, a failed database write, an unknown error), a verdict on the file is not", () => {
    for (const e of [err('JOB_ABORTED'), err('INTERNAL'), err('POSTPROCESS_FAILED'), new Error('boom')]) expect(shouldRetry(e, 1, policy)).toBe(true);
    for (const code of ['RECORDING_EMPTY', 'RECORDING_CORRUPT', 'FFMPEG_NOT_FOUND'] as const) expect(shouldRetry(err(code), 1, policy)).toBe(false);
  });

  test('regression: FFMPEG_FAILED (ffmpeg refused the file) fails at once, where a storage outage is retried', () => {
    // Once retried 5 times over 7.5 minutes: the same file, binary and arguments fail the same way.
    expect(afterFailedAttempt(err('FFMPEG_FAILED'), 1, policy)).toEqual({ retry: false, error: expect.objectContaining({ code: 'FFMPEG_FAILED', fault: 'service' }) });
    expect(afterFailedAttempt(err('STORAGE_UNAVAILABLE'), 1, policy, () => 0)).toEqual({ retry: true, delayMs: 1000 });
  });

  test('a lost attempt past the budget ends the job with POSTPROCESS_EXHAUSTED', () => {
    expect(exhausted(5, policy, null)).toBeNull();
    expect(exhausted(6, policy, 'STORAGE_UNAVAILABLE: down')).toMatchObject({ code: 'POSTPROCESS_EXHAUSTED', message: 'post-processing gave up after 5 attempts: STORAGE_UNAVAILABLE: down' });
  });

  test('HTTP answers a retry will not change: 4xx but 408 and 429, and redirects', () => {
    expect([301, 400, 401, 403, 404, 410, 422].every(isRefusal)).toBe(true);
    expect([408, 429, 500, 502, 503].some(isRefusal)).toBe(false);
  });
});

describe('the backoff', () => {
  test('doubles from the base per failed attempt, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => exponentialBackoff(a, policy, () => 0))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(exponentialBackoff(1000, policy, () => 0)).toBe(10_000);
  });

  test('jitter only shortens a wait, by at most BACKOFF_JITTER: never above the cap, never below (1 - jitter) of the step', () => {
    for (let a = 1; a <= 8; a++) {
      const full = Math.min(policy.maxMs, policy.baseMs * 2 ** (a - 1));
      for (const r of [0, 0.3, 0.999, 1]) {
        const d = exponentialBackoff(a, policy, () => r);
        expect(d).toBeLessThanOrEqual(Math.min(full, policy.maxMs));
        expect(d).toBeGreaterThanOrEqual(Math.floor(full * (1 - BACKOFF_JITTER)));
      }
    }
  });

  test('the numbers come from config, with their documented defaults and the env names kept', () => {
    const c = loadConfig({});
    expect(c.postprocess.retry).toEqual({ maxAttempts: 5, baseMs: 30_000, maxMs: 300_000 });
    expect(c.webhooks.retry).toEqual({ maxAttempts: 6, baseMs: 1000, maxMs: 60_000 });
    const set = loadConfig({ POSTPROCESS_MAX_ATTEMPTS: '2', POSTPROCESS_RETRY_BASE_SECONDS: '0.1', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_RETRY_MAX_SECONDS: '5' });
    expect(set.postprocess.retry).toEqual({ maxAttempts: 2, baseMs: 100, maxMs: 300_000 });
    expect(set.webhooks.retry).toEqual({ maxAttempts: 3, baseMs: 1000, maxMs: 5000 });
    expect(() => loadConfig({ WEBHOOK_MAX_ATTEMPTS: '0' })).toThrow(/WEBHOOK_MAX_ATTEMPTS/);
  });
});

describe('the end of a live recording', () => {
  const result = (extra: Partial<RecordingResult> = {}): RecordingResult => ({
    id: 'r', path: '/x.mp4', format: 'mp4', size: 10, durationMs: 1000, spoolPath: '/x.webm', startedAt: new Date(), endedAt: new Date(), endReason: 'stopped', ...extra,
  });

  test('a file goes on to post-processing; one cut short keeps its code and fault (endedEarly)', () => {
    expect(liveRecordingEnd(result(), undefined)).toMatchObject({ to: 'PROCESSING', extra: {} });
    expect(liveRecordingEnd(result({ endReason: 'failed', error: { code: 'INGEST_STALLED', message: 'no chunk for 10 s' } }), undefined)).toMatchObject({
      to: 'PROCESSING',
      extra: { errorCode: 'INGEST_STALLED', errorFault: 'service', errorMessage: 'no chunk for 10 s' },
    });
    expect(endedEarly({ code: 'SOMETHING_NEW', message: 'x' })).toEqual({ errorCode: 'INTERNAL', errorMessage: 'SOMETHING_NEW: x', errorFault: 'service' });
  });

  test("no file is FAILED with the recorder's error and its fault", () => {
    expect(liveRecordingEnd(undefined, err('RECORDING_ABORTED'))).toMatchObject({ to: 'FAILED', error: { code: 'RECORDING_ABORTED', fault: 'caller' } });
    expect(liveRecordingEnd(undefined, err('RECORDING_EMPTY'))).toMatchObject({ to: 'FAILED', error: { code: 'RECORDING_EMPTY', fault: 'service' } });
    expect(liveRecordingEnd(undefined, undefined)).toMatchObject({ to: 'FAILED', error: { code: 'INTERNAL' } });
  });

  test("stopped before any worker took it is the caller's abort, like a stop before the canvas was ready", () => {
    expect(stoppedBeforeStart()).toMatchObject({ code: 'RECORDING_ABORTED', fault: 'caller' });
  });

  test('a dead worker: its spool kept as an early end, or WORKER_LOST', () => {
    expect(workerLost.kept()).toMatchObject({ errorCode: 'WORKER_LOST', errorFault: 'service' });
    expect(workerLost.nothing()).toMatchObject({ code: 'WORKER_LOST', fault: 'service' });
  });
});
