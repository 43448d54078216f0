import http from 'node:http';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { RECORDER_CHROMIUM_ARGS } from '../recorder/browser-launch';
import { bundledPageDir, serveBundledPage } from '../recorder/static-files';
import { publisherToken, type LivekitCredentials } from '../livekit/tokens';

export interface PublisherSpec {
  room: string;
  identity: string;
  name?: string;
  /** CSS colour of the camera picture, e.g. '#ff0000'. */
  colour: string;
  /** Sine tone in Hz. */
  tone: number;
  /** Flash white and beep together once a second instead (A/V offset measurement). */
  flash?: boolean;
  /** Start with the tone off (setTone turns it on). */
  silent?: boolean;
  simulcast?: boolean;
  /** Joins as a LiveKit agent (participant kind), as a voice bot would. */
  agent?: boolean;
  width?: number;
  height?: number;
  fps?: number;
}

export interface Publisher {
  identity: string;
  page: Page;
  setCameraMuted(muted: boolean): Promise<void>;
  setColour(colour: string): Promise<void>;
  shareScreen(colour: string): Promise<void>;
  stopScreenShare(): Promise<void>;
  /** Tone on or off (someone who speaks, then stops); resolves with the instant in the publisher (wall clock, ms). */
  setTone(on: boolean): Promise<number>;
  /** A data message on `topic`: a packet (publishData) or a text stream (sendText); resolves with the instant it was sent (wall clock, ms). */
  sendChat(topic: string, text: string, as?: 'packet' | 'stream'): Promise<number>;
  /** Leaves the room and closes the page. */
  leave(): Promise<void>;
}

/**
 * Participants of known content for the demo, the tests and the benchmarks: each a
 * Chromium page publishing a solid colour and a sine tone through livekit-client.
 * They run in their own browser so the recorder's cost can be measured apart.
 */
export class SyntheticPublishers {
  private constructor(
    private readonly browser: Browser,
    private readonly server: http.Server,
    private readonly origin: string,
    private readonly livekit: LivekitCredentials,
  ) {}

  static async launch(opts: { chromiumPath: string; livekit: LivekitCredentials; pageDir?: string }): Promise<SyntheticPublishers> {
    const dir = opts.pageDir ?? bundledPageDir();
    const server = http.createServer((req, res) => {
      if (!serveBundledPage(dir, req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const browser = await puppeteer.launch({
        executablePath: opts.chromiumPath,
        headless: true,
        args: RECORDER_CHROMIUM_ARGS,
        protocolTimeout: 30000,
        // shutdown is ours: finish recordings first, then close the browser
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
      return new SyntheticPublishers(browser, server, origin, opts.livekit);
    } catch (err) {
      server.close();
      throw err;
    }
  }

  pid(): number | undefined {
    return this.browser.process()?.pid;
  }

  async add(spec: PublisherSpec): Promise<Publisher> {
    const token = await publisherToken(this.livekit, spec.room, spec.identity, spec.name ?? spec.identity, spec.agent ? 'agent' : undefined);
    const params = new URLSearchParams({
      url: this.livekit.url,
      token,
      colour: spec.colour,
      tone: String(spec.tone),
      width: String(spec.width ?? 320),
      height: String(spec.height ?? 180),
      fps: String(spec.fps ?? 15),
    });
    if (spec.flash) params.set('flash', '1');
    if (spec.silent) params.set('silent', '1');
    if (spec.simulcast) params.set('simulcast', '1');
    const page = await this.browser.newPage();
    await page.goto(`${this.origin}/recorder/publisher.html?${params}`, { waitUntil: 'load' });
    await page.waitForFunction('window.publisher && (window.publisher.ready || window.publisher.error)', { timeout: 20000 });
    const error = (await page.evaluate('window.publisher.error')) as string | undefined;
    if (error) {
      await page.close();
      throw new Error(`publisher ${spec.identity} could not publish: ${error}`);
    }
    return {
      identity: spec.identity,
      page,
      setCameraMuted: (muted) => page.evaluate(`window.publisher.setCameraMuted(${muted})`).then(() => undefined),
      setColour: (colour) => page.evaluate(`window.publisher.setColour(${JSON.stringify(colour)})`).then(() => undefined),
      shareScreen: (colour) => page.evaluate(`window.publisher.shareScreen(${JSON.stringify(colour)})`).then(() => undefined),
      stopScreenShare: () => page.evaluate('window.publisher.stopScreenShare()').then(() => undefined),
      setTone: (on) => page.evaluate(`window.publisher.setTone(${on})`) as Promise<number>,
      sendChat: (topic, text, as = 'packet') => page.evaluate(`window.publisher.sendChat(${JSON.stringify(topic)}, ${JSON.stringify(text)}, ${JSON.stringify(as)})`) as Promise<number>,
      leave: async () => {
        if (page.isClosed()) return;
        await page.evaluate('window.publisher.leave()').catch(() => undefined);
        await page.close();
      },
    };
  }

  async close(): Promise<void> {
    const proc = this.browser.process();
    await this.browser.close().catch(() => proc?.kill('SIGKILL'));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
