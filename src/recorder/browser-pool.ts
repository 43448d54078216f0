import fs from 'node:fs/promises';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { AppError } from '../errors';
import { BrowserOwnership, defaultBrowserStateDir, type BrowserClaim } from './browser-ownership';
import type { Logger } from './logger';

export interface BrowserPoolOptions {
  chromiumPath: string;
  extraArgs: string[];
  /** Browsers kept running between recordings so a start does not pay for a launch. */
  warmBrowsers: number;
  /**
   * Recorder pages kept loaded in standby across the warm browsers (default one per browser),
   * so that many starts at once each find one.
   */
  standbyPages?: number;
  /** Window size for tab-capture pages; canvas pages do not depend on it. */
  windowWidth?: number;
  windowHeight?: number;
  /** Records of the browsers this worker runs, swept at start (default: per user under the temp dir). */
  stateDir?: string;
}

/** Flags for a recorder that must never be throttled and must never talk to anything but loopback. */
export const RECORDER_CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--no-first-run',
  '--no-default-browser-check',
  '--metrics-recording-only',
  '--password-store=basic',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  '--disable-ipc-flooding-protection',
  '--allow-loopback-in-peer-connection',
  // raw host candidates instead of mDNS names: no multicast queries leave the machine
  '--disable-features=WebRtcHideLocalIpsWithMdns,Translate,MediaRouter,OptimizationHints',
  '--auto-accept-this-tab-capture',
];

/** The pool's own 'disconnected' listener on each browser (launch()). */
const POOL_LISTENERS = 1;

export interface RecorderPage {
  page: Page;
  /** Evaluates an expression where the recorder's script lives (awaiting a promise it returns). */
  run(expression: string): Promise<unknown>;
  close(): Promise<void>;
}

interface Standby {
  browser: Browser;
  ready: Promise<RecorderPage>;
}

/**
 * Owns the Chromium processes of a worker. Each recording gets its own browser context
 * (no shared storage between recordings) in a warm browser; a browser that crashed is
 * replaced on the next request.
 */
export class BrowserPool {
  private browsers: Browser[] = [];
  private launching?: Promise<Browser>;
  private closed = false;
  private standbyUrl?: string;
  /** Recorder pages loaded and waiting for their parameters, spread over the warm browsers. */
  private standby: Standby[] = [];
  private refillTimer?: NodeJS.Timeout;
  private nextBrowser = 0;
  private readonly ownership: BrowserOwnership;
  private readonly claims = new WeakMap<Browser, BrowserClaim>();

  constructor(
    private readonly opts: BrowserPoolOptions,
    private readonly log: Logger,
  ) {
    this.ownership = new BrowserOwnership(opts.stateDir ?? defaultBrowserStateDir(), log);
  }

  /**
   * Checks the executable, launches the warm browsers and loads a standby recorder page
   * (`standbyUrl`) in each, so a recording starts without paying for launch or load.
   * First ends the browsers a dead predecessor left running.
   */
  async start(standbyUrl: string): Promise<void> {
    await assertChromium(this.opts.chromiumPath);
    await this.ownership.sweep();
    this.standbyUrl = standbyUrl;
    for (let i = 0; i < this.opts.warmBrowsers; i++) this.browsers.push(await this.launch());
    this.refill(true);
    await Promise.all(this.standby.map((s) => s.ready));
  }

  private get standbyTarget(): number {
    return this.opts.warmBrowsers === 0 ? 0 : (this.opts.standbyPages ?? this.opts.warmBrowsers);
  }

  /** A loaded recorder page in standby, in its own browser context. */
  async openPage(): Promise<RecorderPage> {
    for (;;) {
      const spare = this.standby.shift();
      if (!spare) return this.loadPage(await this.browser());
      this.scheduleRefill();
      const page = await spare.ready.catch(() => undefined);
      if (page && spare.browser.connected && !page.page.isClosed()) return page;
    }
  }

  /**
   * Replaces the standby pages taken a moment after a start: loading a page costs about a
   * core for a second, which would slow the joins of a burst of starts.
   */
  private scheduleRefill(): void {
    if (this.closed || this.refillTimer) return;
    this.refillTimer = setTimeout(() => this.refill(), 1500);
    this.refillTimer.unref();
  }

  /** Loads standby pages up to the target: all at once at start, else one after another (each costs a burst of CPU beside live recordings). */
  private refill(allAtOnce = false): void {
    this.refillTimer = undefined;
    this.browsers = this.browsers.filter((b) => b.connected);
    while (!this.closed && this.browsers.length > 0 && this.standby.length < this.standbyTarget) {
      const ready = this.prepareStandby(this.browsers[this.nextBrowser++ % this.browsers.length]);
      if (!allAtOnce) {
        void ready.then(() => this.refill(), () => this.scheduleRefill());
        return;
      }
    }
  }

  private prepareStandby(browser: Browser): Promise<RecorderPage> {
    const ready = this.loadPage(browser);
    const entry = { browser, ready };
    ready.catch((err: Error) => {
      this.log.warn({ err: err.message }, 'standby page failed to load');
      this.standby = this.standby.filter((s) => s !== entry);
    });
    this.standby.push(entry);
    return ready;
  }

  private async loadPage(browser: Browser): Promise<RecorderPage> {
    const standbyUrl = this.standbyUrl;
    if (!standbyUrl) throw new AppError('INTERNAL', 'browser pool not started');
    return this.pageInNewContext(browser, async (page) => {
      await page.goto(standbyUrl, { waitUntil: 'load', timeout: 15000 });
      await page.waitForFunction('window.recorder && window.recorderState.marks.ready !== undefined', { timeout: 15000 });
    });
  }

  /**
   * An operator's layout page at `url`, in its own browser context, its viewport at the
   * output size (tab capture records the viewport). `beforeLoad` sees the page before it
   * navigates (to listen to its console from the first line).
   */
  async openUrlPage(url: string, size: { width: number; height: number }, beforeLoad?: (page: Page) => void | Promise<void>): Promise<RecorderPage> {
    return this.pageInNewContext(await this.browser(), async (page) => {
      await page.setViewport({ width: size.width, height: size.height, deviceScaleFactor: 1 });
      // the capture script is injected into the operator's page; its CSP must not refuse it
      await page.setBypassCSP(true);
      await beforeLoad?.(page);
      const res = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
      if (res && !res.ok()) throw new Error(`HTTP ${res.status()}`);
    });
  }

  private async pageInNewContext(browser: Browser, prepare: (page: Page) => Promise<void>): Promise<RecorderPage> {
    const context: BrowserContext = await browser.createBrowserContext();
    let closing: Promise<void> | undefined;
    // a hung browser must not hang the end of a recording: its media is already spooled
    const close = () => {
      closing ??= Promise.race([context.close(), new Promise<void>((resolve) => setTimeout(resolve, 5000).unref())]).catch(() => undefined);
      return closing;
    };
    try {
      const page = await context.newPage();
      await prepare(page);
      return { page, close, run: (expression) => page.evaluate(expression) };
    } catch (err) {
      await close();
      throw err;
    }
  }

  /** Process ids of every running browser process tree root (for cost measurement and leak checks). */
  pids(): number[] {
    return this.browsers.map((b) => b.process()?.pid).filter((p): p is number => typeof p === 'number');
  }

  /** 'disconnected' listeners on the browsers beyond the pool's own (for leak checks: one per live recording). */
  recordingListeners(): number {
    return this.browsers.reduce((n, b) => n + b.listenerCount('disconnected') - POOL_LISTENERS, 0);
  }

  /** Recorder pages open across all browsers, standby pages not counted (for leak checks). */
  async openPages(): Promise<number> {
    let n = 0;
    for (const b of this.browsers) if (b.connected) n += (await b.pages()).filter((p) => p.url() !== 'about:blank').length;
    return n - this.standby.length;
  }

  /** Standby recorder pages loaded and waiting in a running browser (dispatch prefers a worker with one). */
  async warmPages(): Promise<number> {
    const loaded = this.standby.map((s) => {
      let ready = false;
      s.ready.then((p) => (ready = s.browser.connected && !p.page.isClosed()), () => undefined);
      return () => ready;
    });
    // the callbacks of pages already loaded run before the next turn of the event loop
    await new Promise((resolve) => setImmediate(resolve));
    return loaded.filter((ready) => ready()).length;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.refillTimer) clearTimeout(this.refillTimer);
    const spares = this.standby;
    this.standby = [];
    await Promise.allSettled(spares.map(async (s) => (await s.ready).close()));
    const all = this.browsers;
    this.browsers = [];
    await Promise.allSettled(all.map((b) => this.closeBrowser(b)));
  }

  private async closeBrowser(browser: Browser): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([browser.close(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('close timeout')), 5000)))]);
    } catch {
      /* hung: release() below kills its process group */
    } finally {
      // a pending timer would keep a shutting-down process alive for 5 s
      clearTimeout(timer);
    }
    await this.release(browser);
  }

  /** Ends what is left of a browser's process tree and removes its record and profile. */
  private async release(browser: Browser): Promise<void> {
    const claim = this.claims.get(browser);
    this.claims.delete(browser);
    if (claim) await this.ownership.release(claim).catch((err: Error) => this.log.warn({ err: err.message }, 'browser cleanup failed'));
  }

  private async browser(): Promise<Browser> {
    if (this.closed) throw new AppError('INTERNAL', 'browser pool is closed');
    this.browsers = this.browsers.filter((b) => b.connected);
    if (this.browsers.length > 0) {
      // the least busy browser: fewest open targets
      const loads = await Promise.all(this.browsers.map(async (b) => (await b.pages()).length));
      return this.browsers[loads.indexOf(Math.min(...loads))];
    }
    this.launching ??= this.launch().then((b) => {
      this.browsers.push(b);
      return b;
    });
    try {
      return await this.launching;
    } finally {
      this.launching = undefined;
    }
  }

  private async launch(): Promise<Browser> {
    const started = Date.now();
    let claim: BrowserClaim | undefined;
    try {
      claim = this.ownership.claim();
      const chromeArgs = puppeteer
        .defaultArgs({
          headless: true,
          userDataDir: claim.userDataDir,
          args: [...RECORDER_CHROMIUM_ARGS, `--window-size=${this.opts.windowWidth ?? 1280},${this.opts.windowHeight ?? 720}`, ...this.opts.extraArgs],
        })
        // puppeteer mutes audio by default, which would silence tab capture
        .filter((a) => a !== '--mute-audio');
      const browser = await puppeteer.launch({
        // through setpriv when it is there: Chromium dies with this process
        ...(await this.ownership.command(this.opts.chromiumPath, chromeArgs)),
        ignoreDefaultArgs: true,
        defaultViewport: null,
        protocolTimeout: 30000,
        // shutdown is ours: finish recordings first, then close the browser
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
      const pid = browser.process()?.pid;
      this.ownership.adopt(claim, pid);
      this.claims.set(browser, claim);
      browser.on('disconnected', () => {
        if (!this.closed) this.log.warn({ pid }, 'browser disconnected');
        // a crashed browser's helpers and profile go with it
        void this.release(browser);
      });
      this.log.debug({ ms: Date.now() - started, pid }, 'browser launched');
      return browser;
    } catch (err) {
      if (claim) await this.ownership.release(claim).catch(() => undefined);
      throw new AppError('BROWSER_CRASHED', `cannot launch Chromium at "${this.opts.chromiumPath}": ${(err as Error).message}`, { cause: err });
    }
  }
}

export async function assertChromium(executable: string): Promise<void> {
  try {
    await fs.access(executable, fs.constants.X_OK);
  } catch {
    throw new AppError('CHROMIUM_NOT_FOUND', `Chromium not found at "${executable}": install it (scripts/bootstrap) or set CHROMIUM_PATH`);
  }
}
