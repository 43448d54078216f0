import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeChunk, type DecodedChunk, type PageMessage, type ServerMessage } from '../../recorder-page/src/protocol';
import { ChunkRefused } from './chunk-sequencer';
import type { Logger } from './logger';
import { requestTarget, serveBundledPage } from './static-files';

/** What one recording does with the frames of its ingest socket(s). */
export interface IngestHandler {
  /** Writes the chunk (in order) and returns the highest sequence number now safe on disk. */
  onChunk(seq: number, flags: number, payload: Uint8Array): Promise<number>;
  /** When given, the ack of `seq` waits for it (the spool stored in object storage), without holding up later frames. */
  whenStored?(seq: number): Promise<void>;
  onMessage(msg: PageMessage): void;
  /** The handler of a participant's track socket (`&track=<key>`, recorder/track-spools.ts); undefined refuses it. */
  track?(key: string): IngestHandler | undefined;
}

interface Registration {
  secret: Buffer;
  handler: IngestHandler;
  sockets: Set<WebSocket>;
}

/**
 * The worker's own loopback server: serves the bundled recorder page and takes one
 * authenticated ingest WebSocket per recording (`/ingest/<id>?secret=...`). A socket
 * without the right secret is refused before the upgrade.
 */
export class IngestServer {
  private readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  private readonly registrations = new Map<string, Registration>();
  private origin = '';

  constructor(
    private readonly pageDir: string,
    private readonly log: Logger,
  ) {
    // Anything can reach this port: no request, upgrade or frame may throw out of a handler.
    this.server = http.createServer((req, res) => {
      try {
        if (!serveBundledPage(this.pageDir, req, res)) res.writeHead(404).end();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'recorder page request refused');
        if (!res.headersSent) res.writeHead(400).end();
      }
    });
    this.server.on('upgrade', (req, socket: Socket, head: Buffer) => {
      // node removes its own error listener from an upgraded socket: a reset would be uncaught
      socket.on('error', () => socket.destroy());
      try {
        this.upgrade(req, socket, head);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'ingest connection refused: malformed request');
        refuse(socket, '400 Bad Request');
      }
    });
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    this.origin = `http://${host}:${addr.port}`;
  }

  /** http://host:port of this server, for the page's launch URL. */
  get httpOrigin(): string {
    return this.origin;
  }

  pageUrl(file: string): string {
    return `${this.origin}/recorder/${file}`;
  }

  /** Registers a recording; returns its ingest URL (with the secret) and an unregister function. */
  register(id: string, handler: IngestHandler): { url: string; unregister: () => void } {
    const secret = crypto.randomBytes(24);
    const reg: Registration = { secret, handler, sockets: new Set() };
    this.registrations.set(id, reg);
    const url = `${this.origin.replace(/^http/, 'ws')}/ingest/${encodeURIComponent(id)}?secret=${secret.toString('hex')}`;
    return {
      url,
      unregister: () => {
        for (const ws of reg.sockets) ws.terminate();
        this.registrations.delete(id);
      },
    };
  }

  /** Open ingest sockets, all recordings together (for leak checks). */
  get openSockets(): number {
    return this.wss.clients.size;
  }

  async close(): Promise<void> {
    for (const id of [...this.registrations.keys()]) {
      for (const ws of this.registrations.get(id)!.sockets) ws.terminate();
    }
    this.registrations.clear();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const { path, query } = requestTarget(req.url);
    const match = /^\/ingest\/([^/]+)$/.exec(path);
    let id: string | undefined;
    try {
      id = match ? decodeURIComponent(match[1]) : undefined;
    } catch {
      this.log.warn({ path }, 'ingest connection refused: the recording id does not decode');
      refuse(socket, '400 Bad Request');
      return;
    }
    const reg = id === undefined ? undefined : this.registrations.get(id);
    const given = Buffer.from(query.get('secret') ?? '', 'hex');
    if (!reg || given.length !== reg.secret.length || !crypto.timingSafeEqual(given, reg.secret)) {
      this.log.warn({ path }, 'ingest connection refused: unknown recording or wrong secret');
      refuse(socket, '401 Unauthorized');
      return;
    }
    const track = query.get('track');
    const handler = track === null ? reg.handler : reg.handler.track?.(track);
    if (!handler) {
      this.log.warn({ path, track }, 'ingest connection refused: no such track');
      refuse(socket, '404 Not Found');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, reg, handler));
  }

  private attach(ws: WebSocket, reg: Registration, handler: IngestHandler): void {
    reg.sockets.add(ws);
    // frames are handled strictly one after another so acks go out in order
    let chain = Promise.resolve();
    let refused = false;
    ws.on('message', (data, isBinary) => {
      chain = chain.then(async () => {
        if (refused) return;
        const frame = data as Buffer;
        if (!isBinary) {
          handler.onMessage(pageMessage(frame.toString()));
          return;
        }
        const { seq, flags, payload } = decodeFrame(frame);
        const acked = await handler.onChunk(seq, flags, payload);
        const ack = () => acked >= 0 && ws.readyState === ws.OPEN && ws.send(JSON.stringify({ type: 'ack', seq: acked } satisfies ServerMessage));
        if (handler.whenStored && acked >= 0) void handler.whenStored(acked).then(ack);
        else ack();
      }).catch((err: unknown) => {
        // the frame is not acknowledged: the page reconnects after any close and resends,
        // in order, what was not acknowledged (a chunk the sequencer refused included)
        refused = true;
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof FrameRefused || err instanceof ChunkRefused) {
          this.log.warn({ err: message }, 'ingest frame refused: closing the socket');
          ws.close(1008, message.slice(0, 120));
        } else {
          this.log.error({ err: message }, 'ingest frame failed: closing the socket');
          ws.close(1011, 'internal error');
        }
      });
    });
    ws.on('close', () => reg.sockets.delete(ws));
    ws.on('error', () => reg.sockets.delete(ws));
  }
}

/** A frame that breaks the ingest protocol (the sender's fault, not ours). */
class FrameRefused extends Error {}

function refuse(socket: Socket, status: string): void {
  if (!socket.destroyed) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function decodeFrame(frame: Buffer): DecodedChunk {
  try {
    return decodeChunk(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
  } catch (err) {
    throw new FrameRefused((err as Error).message);
  }
}

/** A text frame as a control message: JSON with a string `type` (the handler ignores types it does not know). */
function pageMessage(text: string): PageMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    throw new FrameRefused('text frame is not JSON');
  }
  if (typeof msg !== 'object' || msg === null || typeof (msg as { type?: unknown }).type !== 'string') {
    throw new FrameRefused('text frame is not a control message');
  }
  return msg as PageMessage;
}
