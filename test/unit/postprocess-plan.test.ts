import type { MediaInfo } from '../../src/postprocess/inspect';
import { planConversion } from '../../src/postprocess/plan';
import { jpegSize, thumbnailTimestamps } from '../../src/postprocess/thumbnails';
import { contentTypeOf } from '../../src/recordings/formats';
import type { ProbeStream } from '../../src/recorder/probe';

const stream = (type: 'video' | 'audio', codec: string): ProbeStream =>
  type === 'video' ? { type, codec, width: 1280, height: 720, attachedPic: false } : { type, codec, attachedPic: false };

const info = (video?: string, audio?: string, file: Partial<MediaInfo> = {}): MediaInfo => {
  const streams = [...(video ? [stream('video', video)] : []), ...(audio ? [stream('audio', audio)] : [])];
  return {
    path: '/x/in.mkv',
    size: 1000,
    durationMs: 10000,
    durationStated: true,
    format: 'matroska,webm',
    streams,
    video: streams.find((s) => s.type === 'video'),
    audio: streams.find((s) => s.type === 'audio'),
    ...file,
  };
};
const MP4 = { path: '/x/in.mp4', format: 'mov,mp4,m4a,3gp,3g2,mj2', indexFirst: true };

describe('planConversion', () => {
  it('remuxes H.264 into MP4 with faststart and converts Opus to AAC', () => {
    const p = planConversion(info('h264', 'opus'), 'mp4');
    expect([p.video, p.audio]).toEqual(['copy', 'transcode']);
    expect(p.args.join(' ')).toContain('-movflags +faststart');
    expect(p.args.join(' ')).toContain('-c:v copy');
    expect(p.args.join(' ')).toContain('-c:a aac');
    expect(p.contentType).toBe('video/mp4');
  });

  it('copies everything into MP4 when the codecs allow it', () => {
    const p = planConversion(info('h264', 'aac'), 'mp4');
    expect([p.video, p.audio]).toEqual(['copy', 'copy']);
  });

  it('copies VP8/Opus into WebM and encodes H.264 to VP8', () => {
    expect(planConversion(info('vp8', 'opus'), 'webm')).toMatchObject({ video: 'copy', audio: 'copy' });
    const p = planConversion(info('h264', 'opus'), 'webm');
    expect(p.video).toBe('transcode');
    expect(p.args).toContain('libvpx');
  });

  it("makes a WebM from the recorder's H.264 + Opus Matroska: VP8 at a rate for its picture, Opus copied", () => {
    const rec = info('h264', 'opus', { path: '/x/rec-1.mkv' });
    const p = planConversion(rec, 'webm');
    expect(p).toMatchObject({ format: 'webm', ext: 'webm', contentType: 'video/webm', video: 'transcode', audio: 'copy', keep: false });
    const args = p.args.join(' ');
    expect(args).toContain('-map 0:v:0 -c:v libvpx -deadline realtime -cpu-used 8');
    expect(args).toContain('-map 0:a:0 -c:a copy');
    expect(args).toMatch(/-f webm$/);
    const rate = (plan: { args: string[] }) => Number(plan.args[plan.args.indexOf('-b:v') + 1]);
    // 2.5 Mbit/s at 1280x720 30 fps (a stated rate, or 30 when MediaRecorder's timestamps state none), scaled by pixel rate
    expect(rate(p)).toBe(2_500_000);
    const hd = { ...rec, streams: [{ ...rec.video!, width: 1920, height: 1080, frameRate: 25 }, rec.audio!] };
    expect(rate(planConversion({ ...hd, video: hd.streams[0] }, 'webm'))).toBe(Math.round((2_500_000 * 1920 * 1080 * 25) / (1280 * 720 * 30)));
    const tiny = { ...rec.video!, width: 160, height: 120, frameRate: 15 };
    expect(rate(planConversion({ ...rec, streams: [tiny, rec.audio!], video: tiny }, 'webm'))).toBe(300_000);
    // the caller's videoBitrate wins
    expect(rate(planConversion(rec, 'webm', { videoBitrate: 1_000_000 }))).toBe(1_000_000);
    // an encoder that takes no rate (x264 at a constant quality) gets none
    expect(planConversion(info('vp8', 'opus'), 'mp4', { videoBitrate: 1_000_000 }).args).not.toContain('-b:v');
  });

  it('takes the recorder output as it is into MKV', () => {
    expect(planConversion(info('h264', 'opus'), 'mkv')).toMatchObject({ video: 'copy', audio: 'copy', ext: 'mkv' });
  });

  it('drops the picture for audio-only formats', () => {
    const m4a = planConversion(info('h264', 'opus'), 'm4a');
    expect(m4a).toMatchObject({ video: 'none', audio: 'transcode', contentType: 'audio/mp4' });
    expect(m4a.args).toContain('-vn');
    expect(planConversion(info('vp8', 'opus'), 'ogg')).toMatchObject({ video: 'none', audio: 'copy' });
  });

  it('refuses audio-only output of a silent recording and unknown formats', () => {
    expect(() => planConversion(info('h264'), 'ogg')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPTION' }));
    expect(() => planConversion(info('h264', 'opus'), 'avi' as never)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPTION' }));
  });

  it('handles a video without audio', () => {
    const p = planConversion(info('h264'), 'mp4');
    expect(p.audio).toBe('none');
    expect(p.args).toContain('-an');
  });
});

describe('a file that already is the deliverable', () => {
  it("keeps the recorder's MP4 (H.264 + AAC, index first) and MKV as they are", () => {
    expect(planConversion(info('h264', 'aac', MP4), 'mp4').keep).toBe(true);
    expect(planConversion(info('h264', 'opus'), 'mkv').keep).toBe(true);
    expect(planConversion(info('vp8', 'opus', { path: '/x/in.webm' }), 'webm').keep).toBe(true);
    expect(planConversion(info('h264', undefined, MP4), 'mp4').keep).toBe(true);
  });

  it('rewrites one that needs it', () => {
    expect(planConversion(info('h264', 'aac', { ...MP4, indexFirst: false }), 'mp4').keep).toBe(false); // no faststart
    expect(planConversion(info('h264', 'opus', MP4), 'mp4').keep).toBe(false); // Opus in MP4
    expect(planConversion(info('vp8', 'opus', { path: '/x/in.webm', durationStated: false }), 'webm').keep).toBe(false); // a raw spool
    expect(planConversion(info('vp8', 'opus', { path: '/x/spool.webm' }), 'mkv').keep).toBe(false); // another extension
    expect(planConversion(info('h264', 'opus'), 'webm').keep).toBe(false);
    expect(planConversion(info('h264', 'opus'), 'ogg').keep).toBe(false); // the picture is dropped
    const withData = info('h264', 'opus');
    withData.streams.push({ type: 'other', codec: 'bin_data', attachedPic: false });
    expect(planConversion(withData, 'mkv').keep).toBe(false);
  });
});

describe('content types', () => {
  it('come from the format table, images and JSON besides', () => {
    expect(['a/recording.mp4', 'b.WEBM', 'c.mkv', 'd.m4a', 'e.ogg', 'thumb-1.jpg', 'manifest.json', 'x.bin', 'noext'].map(contentTypeOf)).toEqual([
      'video/mp4', 'video/webm', 'video/x-matroska', 'audio/mp4', 'audio/ogg', 'image/jpeg', 'application/json', 'application/octet-stream', 'application/octet-stream',
    ]);
  });
});

describe('thumbnail timestamps', () => {
  it('spreads 5 thumbnails at 10/30/50/70/90%', () => {
    expect(thumbnailTimestamps(60000)).toEqual([6000, 18000, 30000, 42000, 54000]);
  });
  it('keeps them distinct for short recordings', () => {
    const t = thumbnailTimestamps(900);
    expect(new Set(t).size).toBe(5);
    expect(Math.max(...t)).toBeLessThan(900);
  });
});

describe('jpegSize', () => {
  it('reads the size from a baseline SOF0 header', () => {
    // SOI, APP0 (len 4), SOF0 with height 180, width 320
    const buf = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0xb4, 0x01, 0x40, 0x03, 0, 0, 0, 0, 0, 0]);
    expect(jpegSize(buf)).toEqual({ width: 320, height: 180 });
  });
  it('returns null for something else', () => {
    expect(jpegSize(Buffer.from('not a jpeg at all'))).toBeNull();
  });
});
