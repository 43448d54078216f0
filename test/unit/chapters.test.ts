import { chaptersOf, ffmetadata, vorbisChapterArgs } from '../../src/postprocess/chapters';

/** Chapters on the file's clock: one at 0, one per resume, one per marker; a marker in a pause at its seam. */
describe('chapters of a recording', () => {
  const t0 = new Date('2026-12-02T01:00:00Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);
  const pauses = [{ pausedAt: at(6), resumedAt: at(10) }];

  test('none without a pause or a marker', () => {
    expect(chaptersOf({ durationMs: 12000, recordingAt: t0, pauses: [], markers: [] })).toEqual([]);
    expect(chaptersOf({ durationMs: 12000, pauses, markers: [] })).toEqual([]);
  });

  test('a resume and markers: before, inside and after the pause', () => {
    const markers = [
      { label: 'intro', at: at(2) },
      { label: 'while paused', at: at(8) },
      { label: 'Q&A', at: at(13) },
    ];
    expect(chaptersOf({ durationMs: 12000, recordingAt: t0, pauses, markers })).toEqual([
      { title: 'Start', kind: 'start', startMs: 0, endMs: 2000 },
      { title: 'intro', kind: 'marker', startMs: 2000, endMs: 6000 },
      // the marker inside the pause names the chapter at its seam, where the resume is
      { title: 'while paused', kind: 'marker', startMs: 6000, endMs: 9000 },
      { title: 'Q&A', kind: 'marker', startMs: 9000, endMs: 12000 },
    ]);
  });

  test('a resume alone; one still open at the end has no chapter; nothing at or past the end', () => {
    expect(chaptersOf({ durationMs: 12000, recordingAt: t0, pauses: [...pauses, { pausedAt: at(18), resumedAt: null }], markers: [{ label: 'late', at: at(30) }] })).toEqual([
      { title: 'Start', kind: 'start', startMs: 0, endMs: 6000 },
      { title: 'Resumed', kind: 'resume', startMs: 6000, endMs: 12000 },
    ]);
  });

  test('a marker at 0 names the first chapter', () => {
    expect(chaptersOf({ durationMs: 5000, recordingAt: t0, pauses: [], markers: [{ label: 'Opening', at: t0 }, { label: 'b', at: at(1) }] })[0]).toEqual({ title: 'Opening', kind: 'marker', startMs: 0, endMs: 1000 });
  });

  test("FFmpeg's metadata file escapes its special characters", () => {
    expect(ffmetadata([{ title: 'a=b;c#d\\e\nf', kind: 'marker', startMs: 0, endMs: 1500 }])).toBe(';FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=a\\=b\\;c\\#d\\\\e\\\nf\n');
  });

  test('Ogg chapters as Vorbis comments', () => {
    expect(vorbisChapterArgs([{ title: 'a = b', kind: 'marker', startMs: 3_723_456, endMs: 4_000_000 }])).toEqual(['-metadata:s:a:0', 'CHAPTER000=01:02:03.456', '-metadata:s:a:0', 'CHAPTER000NAME=a = b']);
  });
});
