import net from 'node:net';

/**
 * A TCP relay in front of livekit-server that can hold room joins (the signal WebSocket,
 * `GET /rtc…`) while everything else, the server API included, passes: a LiveKit slow to
 * let a participant in, made on purpose, so a test can act between a page's hello and its
 * first media instead of racing them. Media itself goes to the server directly (ICE).
 */
export class SignalGate {
  private holding = false;
  private readonly parked: Array<() => void> = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
    /** The LiveKit URL that goes through the gate. */
    readonly url: string,
  ) {}

  /** A gate to the LiveKit server at `livekitUrl` (ws://host:port), open until hold(). */
  static async open(livekitUrl: string): Promise<SignalGate> {
    const target = new URL(livekitUrl);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const gate = new SignalGate(server, { host: target.hostname, port: Number(target.port) }, `${target.protocol}//127.0.0.1:${port}`);
    server.on('connection', (client) => gate.relay(client));
    return gate;
  }

  /** Joins from now on wait (connected, unanswered) until release(). */
  hold(): void {
    this.holding = true;
  }

  /** Lets the waiting joins through, and every later one. */
  release(): void {
    this.holding = false;
    for (const go of this.parked.splice(0)) go();
  }

  /** How many joins are waiting at the gate. */
  get heldJoins(): number {
    return this.parked.length;
  }

  async close(): Promise<void> {
    this.parked.length = 0;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket): void {
    this.track(client);
    client.once('data', (first) => {
      client.pause();
      const go = () => {
        if (client.destroyed) return;
        const upstream = this.track(net.connect(this.target.port, this.target.host));
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.write(first);
        client.pipe(upstream);
        upstream.pipe(client);
      };
      if (this.holding && first.toString('latin1', 0, 8) === 'GET /rtc') this.parked.push(go);
      else go();
    });
  }

  private track(socket: net.Socket): net.Socket {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    return socket;
  }
}
