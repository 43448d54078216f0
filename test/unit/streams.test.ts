import { loadConfig } from '../../src/config';
import { recordingCost } from '../../src/recordings/capacity';
import { exponentialBackoff } from '../../src/recordings/failure-policy';
import { applyLiveChange } from '../../src/recordings/live-change';
import { resolveRecordingOptions } from '../../src/recordings/options';
import { applyStreamsChange, redactedOutputs, resolveOutputs } from '../../src/recordings/outputs';
import { checkStreamUrl, hostAllowed, redactStreamUrl, scrubStreamUrl } from '../../src/recordings/streams';
import { STREAM_RETRY, streamOutputArgs } from '../../src/recorder/stream-output';
import { errorCode } from '../helpers/error-code';

/** Stream outputs' rules (recordings/streams.ts, outputs.ts): allowed hosts, URL rules, redaction, add/remove, the retry backoff. */
describe('stream destinations', () => {
  it('allows only the hosts listed: exact, *.domain (not the domain itself), *, and a port when one is given', () => {
    const ok = (url: string, patterns: string[]) => hostAllowed(new URL(url), patterns);
    expect(ok('rtmp://live.example.com/app/k', ['live.example.com'])).toBe(true);
    expect(ok('rtmp://LIVE.example.com/app/k', ['live.example.com'])).toBe(true);
    expect(ok('rtmp://evil.com/app/k', ['live.example.com'])).toBe(false);
    expect(ok('rtmp://live.example.com.evil.com/app/k', ['live.example.com'])).toBe(false);
    expect(ok('rtmp://a.b.example.com/app/k', ['*.example.com'])).toBe(true);
    expect(ok('rtmp://example.com/app/k', ['*.example.com'])).toBe(false);
    expect(ok('rtmp://notexample.com/app/k', ['*.example.com'])).toBe(false);
    expect(ok('rtmp://anything.net/app/k', ['*'])).toBe(true);
    expect(ok('rtmp://127.0.0.1/app/k', ['127.0.0.1:1935'])).toBe(true);
    expect(ok('rtmp://127.0.0.1:1936/app/k', ['127.0.0.1:1935'])).toBe(false);
    expect(ok('srt://127.0.0.1:9000', ['127.0.0.1:9000'])).toBe(true);
    expect(ok('rtmp://x.com/app/k', [])).toBe(false);
  });

  it('checks a URL: its protocol, an RTMP app and key, and the allowed hosts (STREAM_URL_INVALID, STREAM_URL_NOT_ALLOWED)', () => {
    const code = (type: 'rtmp' | 'srt', url: string, allowed: string[] | 'any' = ['*']) => errorCode(() => checkStreamUrl(type, url, allowed));
    expect(checkStreamUrl('rtmp', 'rtmp://a.com/live/key', ['a.com'])).toBe('rtmp://a.com/live/key');
    expect(checkStreamUrl('rtmp', 'rtmps://a.com:443/live/key', ['a.com'])).toBe('rtmps://a.com:443/live/key');
    expect(checkStreamUrl('srt', 'srt://a.com:9000?streamid=x', 'any')).toBe('srt://a.com:9000?streamid=x');
    expect(code('rtmp', 'not a url')).toBe('STREAM_URL_INVALID');
    expect(code('rtmp', 'http://a.com/live/key')).toBe('STREAM_URL_INVALID');
    expect(code('rtmp', 'srt://a.com:9000')).toBe('STREAM_URL_INVALID');
    expect(code('srt', 'rtmp://a.com/live/key')).toBe('STREAM_URL_INVALID');
    expect(code('rtmp', 'rtmp://a.com/live')).toBe('STREAM_URL_INVALID');
    expect(code('rtmp', 'rtmp://b.com/live/key', ['a.com'])).toBe('STREAM_URL_NOT_ALLOWED');
    // nothing is allowed by default
    expect(loadConfig({}).recorder.streamAllowed).toEqual([]);
    expect(code('rtmp', 'rtmp://a.com/live/key', loadConfig({}).recorder.streamAllowed)).toBe('STREAM_URL_NOT_ALLOWED');
    expect(loadConfig({ RECORDER_STREAM_ALLOWED: 'a.com, *.b.com:1935,*' }).recorder.streamAllowed).toEqual(['a.com', '*.b.com:1935', '*']);
    expect(errorCode(() => loadConfig({ RECORDER_STREAM_ALLOWED: 'rtmp://a.com' }))).toBe('CONFIG_INVALID');
  });

  it('redacts the key, query values, SRT secrets and credentials, telling two keys apart', () => {
    const r = redactStreamUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl');
    expect(r).toMatch(/^rtmp:\/\/a\.rtmp\.youtube\.com\/live2\/redacted-[0-9a-f]{8}$/);
    expect(r).not.toContain('abcd');
    expect(redactStreamUrl('rtmp://a.com/live2/other-key')).not.toBe(r);
    expect(redactStreamUrl('rtmp://a.com/live2/k1')).toBe(redactStreamUrl('rtmp://a.com/live2/k1'));
    const q = redactStreamUrl('rtmp://user:pw@a.com:1935/app/key?auth=s3cret');
    expect(q).toMatch(/^rtmp:\/\/redacted-[0-9a-f]{8}@a\.com:1935\/app\/redacted-[0-9a-f]{8}\?auth=redacted-[0-9a-f]{8}$/);
    const srt = redactStreamUrl('srt://b.com:9000?streamid=publish:room/s3cret&passphrase=p4ssw0rd12&latency=200');
    expect(srt).toMatch(/^srt:\/\/b\.com:9000\?streamid=redacted-[0-9a-f]{8}&passphrase=redacted-[0-9a-f]{8}&latency=200$/);
    // FFmpeg's messages quote the URL, or its key alone
    const url = 'rtmp://a.com/live/s3cret-key';
    const scrubbed = scrubStreamUrl(`[rtmp @ 0x1] Cannot open ${url}: refused; key s3cret-key`, url);
    expect(scrubbed).not.toContain('s3cret-key');
    expect(scrubbed).toContain(redactStreamUrl(url));
  });

  it('takes several streams at start, distinct, at most 3, and shows them redacted', () => {
    const out = resolveOutputs([{ type: 'rtmp', url: 'rtmp://a.com/live/k1' }, { type: 'rtmp', url: 'rtmp://a.com/live/k2' }, { type: 'file' }], 'outputs', false, ['a.com']);
    expect(out).toHaveLength(3);
    expect(redactedOutputs(out).map((o) => ('url' in o ? o.url : o.type))).toEqual([redactStreamUrl('rtmp://a.com/live/k1'), redactStreamUrl('rtmp://a.com/live/k2'), 'file']);
    expect(errorCode(() => resolveOutputs([{ type: 'rtmp', url: 'rtmp://a.com/live/k1' }, { type: 'rtmp', url: 'rtmp://a.com/live/k1' }], 'outputs', false, ['a.com']))).toBe('UNSUPPORTED_OPTION');
    const four = [1, 2, 3, 4].map((n) => ({ type: 'rtmp', url: `rtmp://a.com/live/k${n}` }));
    expect(errorCode(() => resolveOutputs(four, 'outputs', false, ['a.com']))).toBe('TOO_MANY_STREAMS');
    expect(errorCode(() => resolveOutputs([{ type: 'rtmp' }], 'outputs', false, ['a.com']))).toBe('UNSUPPORTED_OPTION');
    expect(errorCode(() => resolveOutputs([{ type: 'rtmp', url: 'rtmp://a.com/live/k', extra: 1 }], 'outputs', false, ['a.com']))).toBe('UNSUPPORTED_OPTION');
    // the start's rules: nothing allowed unless the operator says so
    expect(errorCode(() => resolveRecordingOptions({ outputs: [{ type: 'rtmp', url: 'rtmp://a.com/live/k' }] }, { maxDurationSeconds: 60 }))).toBe('STREAM_URL_NOT_ALLOWED');
    expect(resolveRecordingOptions({ outputs: [{ type: 'srt', url: 'srt://a.com:9000' }] }, { maxDurationSeconds: 60, streamHosts: ['a.com'] }).options.outputs).toEqual([{ type: 'srt', url: 'srt://a.com:9000' }]);
  });

  it('adds and removes streams live: by URL or its redacted form, with the start rules, nothing changed on a refusal', () => {
    const current = [{ type: 'file' as const }, { type: 'rtmp' as const, url: 'rtmp://a.com/live/k1' }];
    expect(applyStreamsChange(current, { add: [{ type: 'rtmp', url: 'rtmp://a.com/live/k2' }], remove: [redactStreamUrl('rtmp://a.com/live/k1')] }, ['a.com'])).toEqual([
      { type: 'file' },
      { type: 'rtmp', url: 'rtmp://a.com/live/k2' },
    ]);
    expect(applyStreamsChange(current, { remove: ['rtmp://a.com/live/k1'] }, ['a.com'])).toEqual([{ type: 'file' }]);
    expect(errorCode(() => applyStreamsChange(current, { remove: ['rtmp://a.com/live/nope'] }, ['a.com']))).toBe('STREAM_NOT_FOUND');
    expect(errorCode(() => applyStreamsChange(current, { add: [{ type: 'rtmp', url: 'rtmp://b.com/live/k' }] }, ['a.com']))).toBe('STREAM_URL_NOT_ALLOWED');
    expect(errorCode(() => applyStreamsChange(current, { add: [{ type: 'rtmp', url: 'rtmp://a.com/live/k1' }] }, ['a.com']))).toBe('UNSUPPORTED_OPTION');
    const many = [2, 3, 4].map((n) => ({ type: 'rtmp' as const, url: `rtmp://a.com/live/k${n}` }));
    expect(errorCode(() => applyStreamsChange(current, { add: many }, ['a.com']))).toBe('TOO_MANY_STREAMS');
    // through the PATCH's rule: the rest of the options stay
    const options = { width: 1280, height: 720, fps: 30 as const, format: 'mp4' as const, layout: 'grid' as const, outputs: current };
    const next = applyLiveChange(options, { streams: { remove: ['rtmp://a.com/live/k1'] } }, { assetOrigins: [], streamHosts: ['a.com'] });
    expect(next).toEqual({ ...options, outputs: [{ type: 'file' }] });
    expect(errorCode(() => applyLiveChange(options, {}, { assetOrigins: [] }))).toBe('CHANGE_EMPTY');
  });

  it('retries a dropped stream after 1 s doubled up to 30 s, less up to a fifth at random', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => exponentialBackoff(n, STREAM_RETRY, () => 0))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(exponentialBackoff(3, STREAM_RETRY, () => 1)).toBe(3200);
  });

  it('copies the H.264 into FLV (RTMP) or MPEG-TS (SRT), Opus made AAC; VP8 is encoded', () => {
    const rtmp = streamOutputArgs({ type: 'rtmp', url: 'rtmp://a.com/live/k' }, { format: 'mp4', videoCodec: 'h264' });
    expect(rtmp.join(' ')).toMatch(/-f webm -i pipe:0 .*-c:v copy .*-c:a aac .*-f flv .*rtmp:\/\/a\.com\/live\/k$/);
    expect(streamOutputArgs({ type: 'srt', url: 'srt://a.com:9000' }, { format: 'mp4', videoCodec: 'h264' }).join(' ')).toMatch(/-f mpegts srt:\/\/a\.com:9000$/);
    expect(streamOutputArgs({ type: 'rtmp', url: 'rtmp://a.com/live/k' }, { format: 'webm', videoCodec: 'vp8' }).join(' ')).toContain('libx264');
  });
});


describe('what a stream costs at admission', () => {
  it('adds RECORDER_COST_STREAM per stream output to the recording cost', () => {
    const costs = { canvas: 0.27, customLayout: 0.8, stream: 0.03 };
    const o = { width: 1280, height: 720, fps: 30 as const };
    expect(recordingCost(o, costs)).toBeCloseTo(0.27);
    expect(recordingCost({ ...o, outputs: [{ type: 'file' }, { type: 'rtmp', url: 'rtmp://a/b/c' }, { type: 'srt', url: 'srt://a:1' }] }, costs)).toBeCloseTo(0.33);
    expect(loadConfig({}).recorder.costs.stream).toBe(0.03);
  });
});
