import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TimelineLine } from '../../src/recorder/timeline-log';
import { readTimeline, TimelineLog } from '../../src/recorder/timeline-log';
import { prepareSidecars } from '../../src/postprocess/sidecars';
import { chatJsonl, chatMessages, chatVtt, speakersJson, speakersVtt, speakerTurns } from '../../src/postprocess/timeline-sidecars';
import { buildVtt, vttText, vttTimestamp } from '../../src/postprocess/webvtt';
import { sidecarKey } from '../../src/storage/keys';
import { parseStartOptions, resolveRecordingOptions } from '../../src/recordings/options';

const T0 = Date.parse('2026-12-02T10:00:00.000Z');
const clock = (durationMs: number, pauses: { pausedAt: Date; resumedAt: Date | null }[] = []) => ({ recordingAt: new Date(T0), pauses, durationMs });
const sp = (at: number, speakers: { identity: string; name?: string; since?: number }[], ended?: { identity: string; at: number }[]): TimelineLine => ({
  type: 'speakers',
  at: T0 + at,
  speakers: speakers.map((s) => ({ identity: s.identity, name: s.name ?? s.identity, ...(s.since !== undefined ? { since: T0 + s.since } : {}) })),
  ...(ended ? { ended: ended.map((e) => ({ identity: e.identity, at: T0 + e.at })) } : {}),
});

describe('WebVTT', () => {
  test('timestamps carry hours and milliseconds', () => {
    expect(vttTimestamp(0)).toBe('00:00:00.000');
    expect(vttTimestamp(3_723_004.4)).toBe('01:02:03.004');
    expect(vttTimestamp(-5)).toBe('00:00:00.000');
  });

  test('markup is escaped, a blank line never ends a cue early, --> cannot appear', () => {
    expect(vttText('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    expect(vttText('one\n\n\ntwo\r\nthree')).toBe('one\ntwo\nthree');
    expect(vttText('x --> y')).not.toContain('-->');
    const vtt = buildVtt([{ startMs: 0, endMs: 1000, voice: 'Ann <admin>\nSmith', text: 'hi\n\nthere' }]);
    expect(vtt).toBe('WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<v Ann &lt;admin&gt; Smith>hi\nthere\n');
  });

  test('no cues is a valid empty track; empty spans are left out', () => {
    expect(buildVtt([])).toBe('WEBVTT\n');
    expect(buildVtt([{ startMs: 500, endMs: 500, text: 'x' }])).toBe('WEBVTT\n');
  });
});

describe('speaker turns', () => {
  test('turns in order, dated by the meter (since, ended), the last one open until the end', () => {
    const lines = [sp(0, []), sp(1400, [{ identity: 'red', since: 1000 }]), sp(4300, [{ identity: 'blue', since: 4050 }], [{ identity: 'red', at: 4020 }]), sp(7400, [], [{ identity: 'blue', at: 7010 }]), sp(8800, [{ identity: 'red', since: 8500 }])];
    const turns = speakerTurns(lines, clock(10_000));
    expect(turns).toEqual([
      { identity: 'red', name: 'red', startMs: 1000, endMs: 4020 },
      { identity: 'blue', name: 'blue', startMs: 4050, endMs: 7010 },
      { identity: 'red', name: 'red', startMs: 8500, endMs: 10_000 },
    ]);
    expect(JSON.parse(speakersJson(turns))).toEqual(turns);
    expect(speakersVtt(turns)).toBe(
      'WEBVTT\n\n00:00:01.000 --> 00:00:04.020\n<v red>red\n\n00:00:04.050 --> 00:00:07.010\n<v blue>blue\n\n00:00:08.500 --> 00:00:10.000\n<v red>red\n',
    );
  });

  test('overlapping speakers give overlapping cues; one identity never overlaps itself', () => {
    const lines = [sp(1000, [{ identity: 'a' }]), sp(2000, [{ identity: 'a' }, { identity: 'b', since: 1500 }]), sp(3000, [{ identity: 'b' }], [{ identity: 'a', at: 2800 }]), sp(3100, [{ identity: 'a', since: 2500 }, { identity: 'b' }])];
    expect(speakerTurns(lines, clock(4000))).toEqual([
      // back, dated (2500) before its previous turn ended (2800): the meter heard a all along, one turn
      { identity: 'a', name: 'a', startMs: 1000, endMs: 4000 },
      { identity: 'b', name: 'b', startMs: 1500, endMs: 4000 },
    ]);
  });

  test('a speaker reported gone and back within a second is one turn, unless a pause lies between', () => {
    // the server's first report names b alone while the meter already had a; then both
    const blink = [sp(0, []), sp(1100, [{ identity: 'a', since: 1000 }]), sp(1300, [{ identity: 'b', since: 1200 }], [{ identity: 'a', at: 1300 }]), sp(2200, [{ identity: 'a', since: 1000 }, { identity: 'b' }]), sp(4000, [], [{ identity: 'a', at: 3900 }, { identity: 'b', at: 3500 }])];
    expect(speakerTurns(blink, clock(5000))).toEqual([
      { identity: 'a', name: 'a', startMs: 1000, endMs: 3900 },
      { identity: 'b', name: 'b', startMs: 1200, endMs: 3500 },
    ]);
    // 900 ms of silence is a breath; 1100 ms is a new turn
    const gaps = [sp(1000, [{ identity: 'a' }]), sp(2000, []), sp(2900, [{ identity: 'a' }]), sp(3500, []), sp(4600, [{ identity: 'a' }]), sp(5000, [])];
    expect(speakerTurns(gaps, clock(6000))).toEqual([
      { identity: 'a', name: 'a', startMs: 1000, endMs: 3500 },
      { identity: 'a', name: 'a', startMs: 4600, endMs: 5000 },
    ]);
    // a stops 500 ms before a pause and speaks 300 ms after its resume: two turns, on each side of the seam
    const pauses = [{ pausedAt: new Date(T0 + 3000), resumedAt: new Date(T0 + 8000) }];
    const seam = [sp(1000, [{ identity: 'a' }]), sp(2500, []), sp(8300, [{ identity: 'a' }]), sp(9000, [])];
    expect(speakerTurns(seam, clock(5000, pauses))).toEqual([
      { identity: 'a', name: 'a', startMs: 1000, endMs: 2500 },
      { identity: 'a', name: 'a', startMs: 3300, endMs: 4000 },
    ]);
  });

  test('before time 0 is cut, a pause is cut out, beyond the end is cut', () => {
    const pauses = [{ pausedAt: new Date(T0 + 5000), resumedAt: new Date(T0 + 9000) }];
    const lines = [sp(-2000, [{ identity: 'a' }]), sp(2000, [], [{ identity: 'a', at: 2000 }]), sp(6000, [{ identity: 'b' }]), sp(8000, []), sp(10_000, [{ identity: 'c' }]), sp(20_000, [])];
    expect(speakerTurns(lines, clock(8000, pauses))).toEqual([
      { identity: 'a', name: 'a', startMs: 0, endMs: 2000 },
      // c from 10 s wall = 6 s on the file (4 s paused), cut at the file's end
      { identity: 'c', name: 'c', startMs: 6000, endMs: 8000 },
    ]);
  });

  test('turns move with the file\'s audio (the recorder\'s A/V offset)', () => {
    const lines = [sp(1000, [{ identity: 'a', since: 900 }]), sp(3000, [], [{ identity: 'a', at: 2500 }])];
    expect(speakerTurns(lines, clock(5000), -100)).toEqual([{ identity: 'a', name: 'a', startMs: 800, endMs: 2400 }]);
  });

  test('no events: no turns, and valid empty files', () => {
    expect(speakerTurns([], clock(5000))).toEqual([]);
    expect(speakersVtt([])).toBe('WEBVTT\n');
    expect(speakersJson([])).toBe('[]\n');
  });
});

describe('chat', () => {
  const chat = (at: number, text: string, extra: Partial<Extract<TimelineLine, { type: 'chat' }>> = {}): TimelineLine => ({ type: 'chat', at: T0 + at, identity: 'ann', name: 'Ann', topic: 'chat', text, ...extra });

  test('on the file clock; before time 0 and inside a pause left out; LiveKit components JSON read for its words', () => {
    const pauses = [{ pausedAt: new Date(T0 + 3000), resumedAt: new Date(T0 + 5000) }];
    const lines = [chat(-10, 'early'), chat(1000, 'hello <b>'), chat(4000, 'paused'), chat(6000, JSON.stringify({ id: 'x', timestamp: 1, message: 'from components' }), { topic: 'lk-chat-topic', truncated: true })];
    const messages = chatMessages(lines, clock(10_000, pauses));
    expect(messages).toEqual([
      { atMs: 1000, identity: 'ann', name: 'Ann', topic: 'chat', text: 'hello <b>' },
      { atMs: 4000, identity: 'ann', name: 'Ann', topic: 'lk-chat-topic', text: '{"id":"x","timestamp":1,"message":"from components"}', message: 'from components', truncated: true },
    ]);
    expect(chatJsonl(messages).trim().split('\n').map((l) => JSON.parse(l))).toEqual(messages);
    expect(chatVtt(messages, 7000)).toBe('WEBVTT\n\n00:00:01.000 --> 00:00:06.000\n<v Ann>hello &lt;b&gt;\n\n00:00:04.000 --> 00:00:07.000\n<v Ann>from components\n');
    expect(chatJsonl([])).toBe('');
  });
});

describe('the sidecar files', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecars-unit-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('the log keeps what parses (a crash may cut its last line) and refuses what does not', async () => {
    const log = await TimelineLog.open(tmp, 'rec-1', { warn: () => undefined } as never);
    expect(log.append({ type: 'stats' })).toBe(false);
    expect(log.append(sp(1000, [{ identity: 'a' }]))).toBe(true);
    expect(log.append({ type: 'chat', at: 'soon' } as never)).toBe(true); // refused, not written
    expect(log.append({ type: 'chat', at: T0, identity: 'a', name: 'A', topic: 'chat', text: 'x'.repeat(10_000) })).toBe(true);
    await log.close();
    fs.appendFileSync(log.path, '{"type":"speakers","at":');
    const lines = await readTimeline(log.path);
    expect(lines).toHaveLength(2);
    expect(lines![1]).toMatchObject({ type: 'chat', text: 'x'.repeat(4096) });
    expect(await readTimeline(path.join(tmp, 'none.jsonl'))).toBeNull();
  });

  test('speakers always when a timeline was kept, chat only when asked; no timeline, no speakers', async () => {
    const log = await TimelineLog.open(tmp, 'rec-2', { warn: () => undefined } as never);
    log.append(sp(500, [{ identity: 'a', name: 'Alice' }]));
    await log.close();
    const source = { recordingAt: new Date(T0), pauses: [], markers: [], timelinePath: log.path, chat: false, audioShiftMs: -100 };
    const made = await prepareSidecars(source, 2000, path.join(tmp, 'out-2'));
    expect(made.map((s) => [s.kind, s.contentType])).toEqual([['speakers.vtt', 'text/vtt'], ['speakers.json', 'application/json']]);
    expect(fs.readFileSync(made[0].path, 'utf8')).toContain('<v Alice>Alice');
    expect(made[1].size).toBe(fs.statSync(made[1].path).size);
    const withChat = await prepareSidecars({ ...source, chat: true }, 2000, path.join(tmp, 'out-3'));
    expect(withChat.map((s) => s.kind)).toEqual(['speakers.vtt', 'speakers.json', 'chat.jsonl', 'chat.vtt']);
    expect(await prepareSidecars({ ...source, timelinePath: path.join(tmp, 'missing.jsonl') }, 2000, path.join(tmp, 'out-4'))).toEqual([]);
  });

  test('keys beside the recording, by name; nothing else', () => {
    expect(sidecarKey('p', 'call-1', 'rec-1', 'speakers.vtt')).toBe('p/call-1/rec-1/speakers.vtt');
    for (const bad of ['../x.vtt', 'manifest.json', 'a/b.json', 'X.vtt', 'speakers.mp4']) expect(() => sidecarKey('', 'call-1', 'rec-1', bad)).toThrow();
  });
});

describe('the chat option', () => {
  const resolve = (body: unknown) => resolveRecordingOptions(parseStartOptions(body), { maxDurationSeconds: 3600, layoutOrigins: ['https://layouts.example'] }).options;

  test('off unless asked; true takes the usual topics; topics named are kept once each', () => {
    expect(resolve({}).chat).toBeUndefined();
    expect(resolve({ chat: false }).chat).toBeUndefined();
    expect(resolve({ chat: true }).chat).toEqual({ topics: ['lk-chat-topic', 'chat'] });
    expect(resolve({ chat: { topics: ['room-chat', 'room-chat', 'q&a'] } }).chat).toEqual({ topics: ['room-chat', 'q&a'] });
  });

  test.each([[{ chat: 'yes' }], [{ chat: { topics: [] } }], [{ chat: { topics: ['a'], extra: 1 } }], [{ chat: { topics: ['bad\u0001'] } }], [{ chat: true, customLayoutUrl: 'https://layouts.example/page' }]])(
    '%j is UNSUPPORTED_OPTION',
    (body) => {
      expect(() => resolve(body)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPTION', message: expect.stringMatching(/^chat /) }));
    },
  );
});
