import { outputOptions, videoCodecOf } from '../../src/recorder/ffmpeg-sink';
import { containerFormat, streamMode } from '../../src/recordings/formats';
import { RECORDING_FORMATS, recorderFormatFor } from '../../src/recordings/options';

describe('FFmpeg output options', () => {
  it('reads the codec from the MediaRecorder mime type', () => {
    expect(videoCodecOf('video/webm;codecs=h264,opus')).toBe('h264');
    expect(videoCodecOf('video/webm;codecs=avc1,opus')).toBe('h264');
    expect(videoCodecOf('video/webm;codecs=vp8,opus')).toBe('vp8');
    expect(videoCodecOf('video/webm;codecs=vp9,opus')).toBe('vp9');
    expect(videoCodecOf('video/webm')).toBe('unknown');
  });

  it('remuxes H.264 into MP4 with faststart and AAC audio', () => {
    const args = outputOptions({ format: 'mp4', videoCodec: 'h264' });
    expect(args.join(' ')).toContain('-c:v copy');
    expect(args.join(' ')).toContain('-c:a aac');
    expect(args.join(' ')).toContain('-movflags +faststart');
  });

  it('copies VP8 into WebM and everything into MKV', () => {
    expect(outputOptions({ format: 'webm', videoCodec: 'vp8' }).join(' ')).toContain('-c:v copy -c:a copy -f webm');
    expect(outputOptions({ format: 'mkv', videoCodec: 'h264' }).join(' ')).toContain('-c:v copy -c:a copy -f matroska');
  });

  it('transcodes only when the container cannot take the codec', () => {
    expect(outputOptions({ format: 'webm', videoCodec: 'h264', picture: { width: 1280, height: 720, fps: 30 } }).join(' ')).toContain('libvpx -deadline realtime -cpu-used 8 -qmin 4 -qmax 48 -b:v 2500000');
    expect(outputOptions({ format: 'mp4', videoCodec: 'unknown' }).join(' ')).toContain('libx264');
    // MP4 does not take VP8 (FFmpeg refuses to write it): a browser without H.264 still gets an MP4
    expect(outputOptions({ format: 'mp4', videoCodec: 'vp8' }).join(' ')).toContain('libx264');
  });

  it('shifts audio by a constant offset', () => {
    expect(outputOptions({ format: 'mp4', videoCodec: 'h264', audioShiftMs: -40 }).join(' ')).toContain('-bsf:a setts=ts=TS-0.04/TB');
    expect(outputOptions({ format: 'mkv', videoCodec: 'h264', audioShiftMs: 25 }).join(' ')).toContain('-c:a copy -bsf:a setts=ts=TS+0.025/TB');
  });

  it('a start asks the recorder for a container that takes the page\'s codec as it is: the live FFmpeg never encodes the picture', () => {
    for (const format of RECORDING_FORMATS) {
      const live = containerFormat(recorderFormatFor(format));
      expect(containerFormat(live.recordedAs)).toBe(live); // a live container is recorded as itself
      expect(live.pageVideoCodec).toBe('h264');
      expect(streamMode(live, 'video', live.pageVideoCodec)).toBe('copy');
      expect(outputOptions({ format: recorderFormatFor(format), videoCodec: 'h264' }).join(' ')).toContain('-c:v copy');
    }
    expect(recorderFormatFor('webm')).toBe('mkv');
  });
});
