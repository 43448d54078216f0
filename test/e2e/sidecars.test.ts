import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config';
import { SyntheticPublishers, type Publisher, type PublisherSpec } from '../../src/demo/synthetic-publishers';
import { audioSamples, tonePowerWindows } from '../helpers/media';
import { startTestService, testLivekit, type TestService } from '../helpers/in-process-service';
import { sleep, waitFor } from '../helpers/recorder-process';
import { untilAdmitted } from '../helpers/api-request';

/**
 * The speaker timeline and the chat on the real recorder, checked on the stored files: publishers
 * whose tone goes on and off in turns, and who send chat (a packet on LiveKit components' topic,
 * a text stream on `chat`); an excluded participant who speaks and chats is in neither. Each cue
 * within 0.5 s of where its turn's tone begins and ends in the stored file.
 * A pause is cut out of them as out of the file. Then the same files in S3 (moto), each read
 * through the URL the view signs.
 */
const RED = { identity: 'red', name: 'Red Speaker', colour: '#ff0000', tone: 500, silent: true };
const BLUE = { identity: 'blue', colour: '#0000ff', tone: 1200, silent: true };
const GREEN = { identity: 'green', colour: '#00ff00', tone: 800, silent: true };
const config = loadConfig({});
const TOLERANCE_MS = 500;
const runFile = promisify(execFile);

let publishers: SyntheticPublishers;
const joined: Publisher[] = [];

beforeAll(async () => {
  publishers = await SyntheticPublishers.launch({ chromiumPath: config.recorder.chromiumPath, livekit: testLivekit });
}, 60000);
afterAll(async () => {
  await Promise.all(joined.map((p) => p.leave()));
  await publishers?.close();
});

interface Recorded {
  view: any;
  /** The stored sidecars by kind, as the signed URLs read them. */
  files: Record<string, string>;
  manifest: any;
  /** Wall-clock ms -> the file's clock. */
  fileMs: (wallMs: number) => number;
}

async function record(svc: TestService, callId: string, people: Omit<PublisherSpec, 'room'>[], body: Record<string, unknown>, during: (p: Publisher[], id: string) => Promise<void>): Promise<Recorded> {
  const room = `room-${callId}`;
  const ps: Publisher[] = [];
  for (const p of people) ps.push(await publishers.add({ ...p, room }));
  joined.push(...ps);
  await sleep(1500);
  expect((await svc.api('POST', '/api/video-calls', { id: callId, roomName: room, hostId: 'host-1', participantIds: [] })).status).toBe(201);
  const start = await untilAdmitted(() => svc.api('POST', `/api/video-calls/${callId}/recording/start`, body));
  expect(start.status).toBe(201);
  const id = start.body.data.id as string;
  const live = await waitFor(async () => {
    const r = (await svc.api('GET', `/api/video-calls/${callId}/recording/${id}`)).body.data;
    return r.status === 'RECORDING' ? r : null;
  }, 30000, 'RECORDING');
  await during(ps, id);
  await svc.api('POST', `/api/video-calls/${callId}/recording/stop`);
  const view = await waitFor(async () => {
    const r = (await svc.api('GET', `/api/video-calls/${callId}/recording/${id}`)).body.data;
    if (r.status === 'FAILED') throw new Error(`FAILED: ${JSON.stringify(r.error)}`);
    return r.status === 'COMPLETED' ? r : null;
  }, 60000, 'COMPLETED');
  await Promise.all(ps.map((p) => p.leave()));
  const read = async (url: string) => {
    const res = await fetch(url.startsWith('/') ? svc.base + url : url);
    expect(res.status).toBe(200);
    return res.text();
  };
  const files: Record<string, string> = {};
  for (const s of view.sidecars) files[s.kind] = await read(s.url);
  const recordingAt = Date.parse(live.recordingAt);
  return { view, files, manifest: JSON.parse(await read(view.manifest.url)), fileMs: (wall) => wall - recordingAt };
}

/** Each cue within the tolerance of where its speaker's tone begins and ends in the downloaded file. */
async function expectCuesOnTheTones(svc: TestService, r: Recorded, cues: { identity: string; startMs: number; endMs: number }[], expected: { identity: string; startMs: number }[]): Promise<void> {
  const file = path.join(os.tmpdir(), `sidecars-${r.view.id}.mp4`);
  // the recording's signed URL, as the view gives it (local storage's or the bucket's)
  const url: string = r.view.url.startsWith('/') ? svc.base + r.view.url : r.view.url;
  fs.writeFileSync(file, Buffer.from(await (await fetch(url)).arrayBuffer()));
  const heard = await toneSpans(file, r.view.durationMs, expected.map((e) => ({ hz: e.identity === 'red' ? RED.tone : BLUE.tone, startMs: e.startMs })));
  // the streams' own lengths: a cue that outlasts its tone may be sound missing at the file's end
  const { stdout } = await runFile('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,duration', '-of', 'json', file]);
  const streams = (JSON.parse(stdout).streams as { codec_type: string; duration?: string }[]).map((x) => `${x.codec_type} ${x.duration}`);
  if (process.env.KEEP_SIDECAR_FILES) console.log(`kept ${file}`);
  else fs.rmSync(file, { force: true });
  const vsFile = cues.map((c, i) => ({ startDiff: Math.round(c.startMs - heard[i].startMs), endDiff: Math.round(c.endMs - heard[i].endMs), holeMs: heard[i].holeMs }));
  console.log(`${r.view.callId}: speaker cues vs the tone in the file (ms): ${JSON.stringify(vsFile)}; streams (s): ${streams.join(', ')}; view ${r.view.durationMs} ms`);
  const onTones = vsFile.every((m) => Math.abs(m.startDiff) <= TOLERANCE_MS && Math.abs(m.endDiff) <= TOLERANCE_MS);
  expect({ vsFile, streams, onTones }).toEqual({ vsFile, streams, onTones: true });
}

/**
 * Where each tone is heard on the file's clock (20 ms windows, the samples where the file's
 * timestamps put them): from the first of three windows in a row near `startMs` with a tenth of
 * the tone's steady power (a click of a loaded machine's audio is one window, not a tone), to
 * the last window with it before a second without it (every turn here is followed by more than
 * a second of its speaker's silence). A shorter silence inside is a hole in the tone, not its
 * end: holes are the sound's concern (the pause e2e holds the sound whole), here they are
 * printed, the longest of each span in `holeMs`.
 */
async function toneSpans(file: string, durationMs: number, turns: { hz: number; startMs: number }[]): Promise<{ startMs: number; endMs: number; holeMs: number }[]> {
  const samples = await audioSamples(file, 0, durationMs / 1000 + 1, undefined, true);
  const windows = Math.floor(durationMs / 20);
  return turns.map(({ hz, startMs }) => {
    const power = tonePowerWindows(samples, hz, windows);
    const steady = power[Math.min(windows - 1, Math.round((startMs + 1000) / 20))];
    const on = power.map((p) => p >= steady / 10);
    let first = Math.max(0, Math.round((startMs - 1000) / 20));
    while (first < windows && !(on[first] && on[first + 1] && on[first + 2])) first++;
    let last = first;
    let holeMs = 0;
    for (let k = first; k < windows && k - last <= 50; k++) {
      if (!on[k]) continue;
      holeMs = Math.max(holeMs, (k - last - 1) * 20);
      last = k;
    }
    return { startMs: Math.min(first * 20, durationMs), endMs: Math.min((last + 1) * 20, durationMs), holeMs };
  });
}

/** Each stored sidecar is in the manifest with its key and its size. */
function expectListed(r: Recorded): void {
  for (const s of r.view.sidecars) {
    const entry = r.manifest.files.find((f: { kind: string }) => f.kind === s.kind);
    expect(entry).toEqual({ kind: s.kind, key: s.key, size: Buffer.byteLength(r.files[s.kind]), contentType: expect.any(String) });
  }
}

describe('local storage', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService('sidecars');
  }, 60000);
  afterAll(() => svc?.close());

  test('speakers in turns and the chat, on the file clock; the excluded participant in neither', async () => {
    const turns: { identity: string; from: number; to?: number }[] = [];
    const sent: { identity: string; at: number }[] = [];
    const r = await record(svc, 'sc-local', [RED, BLUE, GREEN], { chat: true, participants: { exclude: ['green'] } }, async ([red, blue, green]) => {
      await sleep(1000);
      turns.push({ identity: 'red', from: await red.setTone(true) });
      await green.setTone(true);
      await sleep(800);
      sent.push({ identity: 'red', at: await red.sendChat('lk-chat-topic', JSON.stringify({ id: 'm1', timestamp: Date.now(), message: 'hello from red' })) });
      await sleep(2200);
      turns[0].to = await red.setTone(false);
      turns.push({ identity: 'blue', from: await blue.setTone(true) });
      await sleep(1000);
      sent.push({ identity: 'blue', at: await blue.sendChat('chat', 'blue <says> hi\nsecond line', 'stream') });
      await green.sendChat('chat', 'green is not recorded');
      await red.sendChat('other-topic', 'not a chat topic');
      await sleep(2000);
      turns[1].to = await blue.setTone(false);
      await green.setTone(false);
      await sleep(1500);
      turns.push({ identity: 'red', from: await red.setTone(true) });
      await sleep(2000);
    });
    expect(r.view.sidecars.map((s: { kind: string }) => s.kind)).toEqual(['speakers.vtt', 'speakers.json', 'chat.jsonl', 'chat.vtt']);
    for (const s of r.view.sidecars) expect(s.key).toBe(`sc-local/${r.view.id}/${s.kind}`);
    expectListed(r);

    const cues: { identity: string; name: string; startMs: number; endMs: number }[] = JSON.parse(r.files['speakers.json']);
    const expected = turns.map((t) => ({ identity: t.identity, startMs: r.fileMs(t.from), endMs: t.to ? r.fileMs(t.to) : r.view.durationMs }));
    const measured = cues.map((c, i) => ({ identity: c.identity, startDiff: c.startMs - (expected[i]?.startMs ?? NaN), endDiff: c.endMs - (expected[i]?.endMs ?? NaN) }));
    console.log(`speaker cues vs turns (ms): ${JSON.stringify(measured)}`);
    expect(cues.map((c) => c.identity)).toEqual(['red', 'blue', 'red']);
    expect(cues[0].name).toBe('Red Speaker');
    // A turn is judged where it is heard: where its tone begins and ends in the recording's
    // audio. The publisher's page turns its tone on and off some time before the recorder
    // hears it (printed above: a quiet run's cue ended 497 ms after the page turned the tone
    // off, 12 ms after the tone did in the file; a CI run's began 549 ms after the page's turn).
    await expectCuesOnTheTones(svc, r, cues, expected);
    expect(r.files['speakers.vtt']).toMatch(/^WEBVTT\n\n\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}\n<v Red Speaker>Red Speaker\n/);
    expect(r.files['speakers.vtt'].match(/-->/g)).toHaveLength(3);

    const chat = r.files['chat.jsonl'].trim().split('\n').map((l) => JSON.parse(l));
    console.log(`chat times vs sends (ms): ${JSON.stringify(chat.map((m, i) => m.atMs - r.fileMs(sent[i]?.at ?? NaN)))}`);
    expect(chat).toEqual([
      expect.objectContaining({ identity: 'red', name: 'Red Speaker', topic: 'lk-chat-topic', message: 'hello from red' }),
      expect.objectContaining({ identity: 'blue', name: 'blue', topic: 'chat', text: 'blue <says> hi\nsecond line' }),
    ]);
    chat.forEach((m, i) => expect(Math.abs(m.atMs - r.fileMs(sent[i].at))).toBeLessThanOrEqual(TOLERANCE_MS));
    expect(r.files['chat.vtt']).toContain('<v Red Speaker>hello from red\n');
    expect(r.files['chat.vtt']).toContain('<v blue>blue &lt;says&gt; hi\nsecond line\n');
    expect(Object.values(r.files).join('')).not.toContain('green');
  }, 120000);

  test('a pause is cut out: who spoke and what was written while paused is not there, the turns after it move up', async () => {
    const turns: { identity: string; from: number; to: number; afterPause: boolean }[] = [];
    let chatAt = 0;
    const r = await record(svc, 'sc-pause', [RED, BLUE], { chat: true }, async ([red, blue], id) => {
      await sleep(1000);
      const from = await red.setTone(true);
      await sleep(2000);
      turns.push({ identity: 'red', from, to: await red.setTone(false), afterPause: false });
      await sleep(1000);
      expect((await svc.api('POST', `/api/video-calls/sc-pause/recording/pause`)).status).toBe(200);
      await blue.setTone(true);
      await blue.sendChat('chat', 'said while paused');
      await sleep(1500);
      await blue.setTone(false);
      await sleep(1500);
      expect((await svc.api('POST', `/api/video-calls/sc-pause/recording/resume`, {})).body.data?.id).toBe(id);
      await sleep(1000);
      const again = await red.setTone(true);
      await sleep(2000);
      turns.push({ identity: 'red', from: again, to: await red.setTone(false), afterPause: true });
      await sleep(800);
      chatAt = await red.sendChat('chat', 'after the pause');
      await sleep(700);
    });
    const pausedMs = r.view.pausedMs as number;
    const onFile = (wall: number, afterPause: boolean) => r.fileMs(wall) - (afterPause ? pausedMs : 0);
    const cues: { identity: string; startMs: number; endMs: number }[] = JSON.parse(r.files['speakers.json']);
    const expected = turns.map((t) => ({ identity: t.identity, startMs: onFile(t.from, t.afterPause), endMs: onFile(t.to, t.afterPause) }));
    const measured = cues.map((c, i) => ({ identity: c.identity, startDiff: c.startMs - (expected[i]?.startMs ?? NaN), endDiff: c.endMs - (expected[i]?.endMs ?? NaN) }));
    console.log(`sc-pause (paused ${pausedMs} ms): speaker cues vs turns (ms): ${JSON.stringify(measured)}`);
    expect(cues.map((c) => c.identity)).toEqual(['red', 'red']);
    // judged where they are heard (as above)
    await expectCuesOnTheTones(svc, r, cues, expected);
    const chat = r.files['chat.jsonl'].trim().split('\n').map((l) => JSON.parse(l));
    expect(chat).toEqual([expect.objectContaining({ identity: 'red', text: 'after the pause' })]);
    expect(Math.abs(chat[0].atMs - onFile(chatAt, true))).toBeLessThanOrEqual(TOLERANCE_MS);
  }, 120000);
});

describe('S3 storage', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService('sidecars-s3', {
      RECORDING_STORAGE_PROVIDER: 'aws',
      RECORDING_STORAGE_BUCKET: process.env.TEST_S3_BUCKET!,
      RECORDING_STORAGE_ENDPOINT: process.env.TEST_S3_ENDPOINT!,
      RECORDING_STORAGE_CREDENTIALS: process.env.TEST_S3_CREDENTIALS!,
      RECORDING_STORAGE_PREFIX: `sidecars-${Date.now()}`,
    });
  }, 60000);
  afterAll(() => svc?.close());

  test('the view signs a URL for each sidecar, and each reads the stored file', async () => {
    const turn = { from: 0, to: 0 };
    const r = await record(svc, 'sc-s3', [RED], {}, async ([red]) => {
      await sleep(1000);
      turn.from = await red.setTone(true);
      await sleep(2000);
      turn.to = await red.setTone(false);
      await sleep(1500);
    });
    expect(r.view.sidecars.map((s: { kind: string; url: string }) => [s.kind, new URL(s.url).origin])).toEqual([
      ['speakers.vtt', new URL(process.env.TEST_S3_ENDPOINT!).origin],
      ['speakers.json', new URL(process.env.TEST_S3_ENDPOINT!).origin],
    ]);
    expectListed(r);
    const cues = JSON.parse(r.files['speakers.json']);
    expect(cues).toEqual([{ identity: 'red', name: 'Red Speaker', startMs: expect.any(Number), endMs: expect.any(Number) }]);
    // where the turn is heard in the stored file (as the local case)
    await expectCuesOnTheTones(svc, r, cues, [{ identity: 'red', startMs: r.fileMs(turn.from) }]);
  }, 120000);
});
