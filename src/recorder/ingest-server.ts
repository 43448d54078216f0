import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeChunk, type PageMessage, type ServerMessage } from '../../recorder-page/src/protocol';
import type { Logger } from './logger';
import { serveBundledPage } from './static-files';

/** What one recording does with the frames of its ingest socket(s). */
export interface IngestHandler {
  /** Writes the chunk (in order) and returns the highest sequence number now safe on disk. */
  onChunk(seq: number, flags: number, payload: Uint8Array): Promise<number>;
  onMessage(msg: PageMessage): void;
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
    this.server = http.createServer((req, res) => {
      if (!serveBundledPage(this.pageDir, req, res)) res.writeHead(404).end();
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as import('node:net').Socket, head));
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

  private upgrade(req: http.IncomingMessage, socket: import('node:net').Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = /^\/ingest\/([^/]+)$/.exec(url.pathname);
    const reg = match ? this.registrations.get(decodeURIComponent(match[1])) : undefined;
    const given = Buffer.from(url.searchParams.get('secret') ?? '', 'hex');
    if (!reg || given.length !== reg.secret.length || !crypto.timingSafeEqual(given, reg.secret)) {
      this.log.warn({ path: url.pathname }, 'ingest connection refused: unknown recording or wrong secret');
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, reg));
  }

  private attach(ws: WebSocket, reg: Registration): void {
    reg.sockets.add(ws);
    // frames are handled strictly one after another so acks go out in order
    let chain = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      chain = chain.then(async () => {
        if (!isBinary) {
          reg.handler.onMessage(JSON.parse(data.toString()) as PageMessage);
          return;
        }
        const frame = data as Buffer;
        const { seq, flags, payload } = decodeChunk(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
        const acked = await reg.handler.onChunk(seq, flags, payload);
        if (acked >= 0 && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'ack', seq: acked } satisfies ServerMessage));
      }).catch((err: Error) => {
        this.log.error({ err: err.message }, 'ingest frame rejected');
      });
    });
    ws.on('close', () => reg.sockets.delete(ws));
    ws.on('error', () => reg.sockets.delete(ws));
  }
}
