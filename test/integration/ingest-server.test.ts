import net from 'node:net';
import WebSocket from 'ws';
import { chunkHeader } from '../../recorder-page/src/protocol';
import { ChunkSequencer } from '../../src/recorder/chunk-sequencer';
import { IngestServer, type IngestHandler } from '../../src/recorder/ingest-server';
import type { Logger } from '../../src/recorder/logger';
import { bundledPageDir } from '../../src/recorder/static-files';

/**
 * The worker's ingest port as an attacker on the same host sees it: raw bytes over TCP,
 * malformed paths and frames. Nothing sent here may end the process; a normal request is
 * still answered afterwards.
 */

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg?: string;
}

function recordingLogger(lines: LogLine[]): Logger {
  const at = (level: LogLine['level']) => (obj: object, msg?: string) => void lines.push({ level, obj, ...(msg ? { msg } : {}) });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return log;
}

/** Writes `bytes` on a fresh connection and returns the response head (or what came before the server closed it, or 2 s passed). */
function raw(port: number, bytes: string | Buffer, opts: { reset?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, 2000);
    socket.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) done();
    });
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', done);
    socket.write(bytes, () => {
      if (opts.reset) {
        socket.resetAndDestroy();
        done();
      }
    });
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

const upgrade = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/** A handler that takes every chunk in order, as a recording does, and keeps the messages. */
function collecting(): IngestHandler & { messages: unknown[]; chunks: number[] } {
  const messages: unknown[] = [];
  const chunks: number[] = [];
  return {
    messages,
    chunks,
    onMessage: (m) => void messages.push(m),
    onChunk: async (seq) => {
      chunks.push(seq);
      return seq;
    },
  };
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const closed = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

describe('ingest server: malformed input from outside', () => {
  const lines: LogLine[] = [];
  let server: IngestServer;
  let port: number;

  beforeEach(async () => {
    lines.length = 0;
    server = new IngestServer(bundledPageDir(), recordingLogger(lines));
    await server.listen('127.0.0.1', 0);
    port = Number(new URL(server.httpOrigin).port);
  });
  afterEach(async () => {
    await server.close();
  });

  async function stillServes(): Promise<void> {
    const page = await fetch(server.pageUrl('recorder.js'));
    expect(page.status).toBe(200);
    await page.arrayBuffer();
  }

  test.each([
    ['GET // (the request from the issue)', 'GET // HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 404],
    ['GET ///recorder/index.html', 'GET ///recorder/index.html HTTP/1.1\r\nHost: x\r\n\r\n', 404],
    ['a path that does not decode', 'GET /recorder/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n', 404],
    ['an absolute-form target whose host does not parse', 'GET http://[::1/recorder/index.html HTTP/1.1\r\nHost: x\r\n\r\n', 200],
    ['an asterisk target', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 404],
    ['a traversal', 'GET /recorder/..%2F..%2Fpackage.json HTTP/1.1\r\nHost: x\r\n\r\n', 404],
    ['no request line at all', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 400],
  ])('plain request: %s', async (_name, bytes, status) => {
    expect(statusOf(await raw(port, bytes))).toBe(status);
    await stillServes();
  });

  test.each([
    ['/ingest/%E0%A4%A (the request from the issue)', '/ingest/%E0%A4%A', 400],
    ['/ingest/%zz', '/ingest/%zz?secret=00', 400],
    ['//', '//', 401],
    ['//ingest/x', '//ingest/x?secret=00', 401],
    ['a malformed secret', '/ingest/x?secret=%zz%E0', 401],
    ['an absolute-form target that does not parse', 'http://[::1/ingest/x', 401],
  ])('upgrade: %s', async (_name, target, status) => {
    expect(statusOf(await raw(port, upgrade(target)))).toBe(status);
    await stillServes();
  });

  test('an upgrade reset by the client before the answer', async () => {
    for (let i = 0; i < 20; i++) await raw(port, upgrade('/ingest/%E0%A4%A'), { reset: true });
    for (let i = 0; i < 20; i++) await raw(port, upgrade('/ingest/x?secret=00'), { reset: true });
    await stillServes();
  });

  test('an authenticated socket that sends garbage is closed with a policy code, the recording goes on', async () => {
    const handler = collecting();
    const { url, unregister } = server.register('rec-1', handler);
    try {
      for (const garbage of ['not json', 'null', '[1,2]', '{"no":"type"}']) {
        const ws = await open(url);
        const bye = closed(ws);
        ws.send(garbage);
        expect(await bye).toEqual({ code: 1008, reason: expect.any(String) });
      }
      for (const short of [Buffer.alloc(0), Buffer.from([0, 0, 1])]) {
        const ws = await open(url);
        const bye = closed(ws);
        ws.send(short);
        expect((await bye).code).toBe(1008);
      }
      expect(handler.messages).toEqual([]);
      expect(handler.chunks).toEqual([]);
      expect(lines.filter((l) => l.level === 'warn' && /ingest/.test(l.msg ?? '')).length).toBeGreaterThanOrEqual(6);
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);

      // the same recording still takes a well-formed stream
      const ws = await open(url);
      const acks: unknown[] = [];
      ws.on('message', (d) => acks.push(JSON.parse(d.toString())));
      ws.send(JSON.stringify({ type: 'stats', fps: 30, participants: 1, frames: 1, audioInputs: 1 }));
      ws.send(Buffer.concat([chunkHeader(0, 0), Buffer.from('media')]));
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (acks.length) {
            clearInterval(t);
            resolve();
          }
        }, 10);
      });
      expect(acks).toEqual([{ type: 'ack', seq: 0 }]);
      expect(handler.messages).toHaveLength(1);
      ws.close();
    } finally {
      unregister();
    }
    await stillServes();
  });
});

describe('ingest server: chunks far ahead of a gap', () => {
  const MiB = 1024 * 1024;
  let server: IngestServer;
  const lines: LogLine[] = [];

  beforeAll(async () => {
    server = new IngestServer(bundledPageDir(), recordingLogger(lines));
    await server.listen('127.0.0.1', 0);
  });
  afterAll(async () => {
    await server.close();
  });

  /** What a recording does with its chunks (session.ts): in order through a sequencer, acked up to `expected - 1`. */
  function sequenced() {
    const sequencer = new ChunkSequencer<Uint8Array>();
    const written: number[] = [];
    const handler: IngestHandler = {
      onMessage: () => undefined,
      onChunk: async (seq, _flags, payload) => {
        for (const c of sequencer.accept(seq, payload).ready) written.push(c.byteLength);
        return sequencer.expected - 1;
      },
    };
    return { sequencer, written, handler };
  }

  const frame = (seq: number, bytes: number) => Buffer.concat([chunkHeader(seq, 0), Buffer.alloc(bytes, seq % 251)]);

  function acksOf(ws: WebSocket): number[] {
    const acks: number[] = [];
    ws.on('message', (d) => acks.push((JSON.parse(d.toString()) as { seq: number }).seq));
    return acks;
  }

  test('100 chunks of 1 MiB behind a missing one: what waits stays bounded, the socket is closed, a resend in order completes', async () => {
    const { sequencer, written, handler } = sequenced();
    const { url, unregister } = server.register('rec-gap', handler);
    try {
      const ws = await open(url);
      const acks = acksOf(ws);
      const bye = closed(ws);
      ws.send(frame(0, 1000));
      for (let seq = 2; seq < 102; seq++) ws.send(frame(seq, MiB));
      expect((await bye).code).toBe(1008);
      expect(sequencer.waitingBytes).toBeLessThanOrEqual(32 * MiB);
      expect(sequencer.waiting).toBeLessThanOrEqual(64);
      // nothing after the gap was acknowledged, so the page still holds all of it
      expect(new Set(acks)).toEqual(new Set([0]));
      expect(lines.some((l) => l.level === 'warn' && /refused/.test(l.msg ?? ''))).toBe(true);

      // the page reconnects and resends what was not acknowledged, in order
      const again = await open(url);
      const acks2 = acksOf(again);
      for (let seq = 1; seq < 102; seq++) again.send(frame(seq, MiB));
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (acks2.at(-1) === 101) {
            clearInterval(t);
            resolve();
          }
        }, 20);
      });
      expect(written).toHaveLength(102);
      expect(sequencer.waiting).toBe(0);
      expect(sequencer.waitingBytes).toBe(0);
      again.close();
    } finally {
      unregister();
    }
  });

  test('a sequence number far ahead is refused at once and holds nothing', async () => {
    const { sequencer, handler } = sequenced();
    const { url, unregister } = server.register('rec-far', handler);
    try {
      const ws = await open(url);
      const acks = acksOf(ws);
      const bye = closed(ws);
      ws.send(frame(0, 10));
      ws.send(frame(4_000_000_000, MiB));
      expect((await bye).code).toBe(1008);
      expect(acks).toEqual([0]);
      expect(sequencer.waiting).toBe(0);
      expect(sequencer.expected).toBe(1);
    } finally {
      unregister();
    }
  });
});
