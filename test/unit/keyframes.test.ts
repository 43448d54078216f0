import { keyframeMsOf } from '../../src/recorder/page-launch';
import { parseStartOptions, resolveRecordingOptions } from '../../src/recordings/options';

const optionsWith = (outputs?: unknown) => resolveRecordingOptions(parseStartOptions(outputs ? { outputs } : {}), { maxDurationSeconds: 3600, streamHosts: 'any' }).options;
const RTMP = { type: 'rtmp', url: 'rtmp://127.0.0.1/live/k' };

describe("the page encoder's keyframe interval", () => {
  it("is Chromium's own for a file alone where no stream can be added", () => {
    expect(keyframeMsOf(optionsWith(), false)).toBeUndefined();
  });

  it('is 2 s with a stream, and for a file alone where a stream may be added later (PATCH)', () => {
    expect(keyframeMsOf(optionsWith([RTMP]), false)).toBe(2000);
    expect(keyframeMsOf(optionsWith(), true)).toBe(2000);
  });

  it('is one per HLS segment alone, and a whole number per segment at most 2 s apart beside a stream', () => {
    expect(keyframeMsOf(optionsWith([{ type: 'hls', segmentSeconds: 6 }]), false)).toBe(6000);
    expect(keyframeMsOf(optionsWith([{ type: 'hls', segmentSeconds: 4 }, RTMP]), false)).toBe(2000);
    expect(keyframeMsOf(optionsWith([{ type: 'hls', segmentSeconds: 5 }]), true)).toBe(1667);
    expect(keyframeMsOf(optionsWith([{ type: 'hls', segmentSeconds: 2 }]), true)).toBe(2000);
  });
});
