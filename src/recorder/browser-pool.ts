import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { AppError } from '../errors';
import { BrowserLauncher, LAUNCHER_LISTENERS, type LaunchOptions } from './browser-launch';
import { BrowserOwnership, defaultBrowserStateDir } from './browser-ownership';
import { loadRecorderPage, loadUrlPage, type RecorderPage } from './browser-pages';
import type { Logger } from './logger';
import { StandbyPages } from './standby-pages';

export interface BrowserPoolOptions extends LaunchOptions {
  /** Browsers kept running between recordings so a start does not pay for a launch. */
  warmBrowsers: number;
  /**
   * Recorder pages kept loaded in standby across the warm browsers (default one per browser),
   * so that many starts at once each find one.
   */
  standbyPages?: number;
  /** Records of the browsers this worker runs, swept at start (default: per user under the temp dir). */
  stateDir?: string;
}

/**
 * The Chromium processes of a worker and the pages in them. Each recording gets its own
 * browser context (no shared storage between recordings) in the least busy warm browser; a
 * browser that crashed is replaced on the next request.
 */
export class BrowserPool {
  private browsers: Browser[] = [];
  private launching?: Promise<Browser>;
  private closed = false;
  private standbyUrl?: string;
  private readonly launcher: BrowserLauncher;
  private readonly standby: StandbyPages;
  /** The contexts of the pages given to recordings (a standby page joins once taken). */
  private readonly given = new WeakSet<BrowserContext>();
  /** Those of them not closed yet: the browsers with a recording live in them. */
  private readonly live = new Set<BrowserContext>();

  constructor(
    private readonly opts: BrowserPoolOptions,
    log: Logger,
  ) {
    this.launcher = new BrowserLauncher(opts, new BrowserOwnership(opts.stateDir ?? defaultBrowserStateDir(), log), log);
    const target = opts.warmBrowsers === 0 ? 0 : (opts.standbyPages ?? opts.warmBrowsers);
    this.standby = new StandbyPages(target, { browsers: () => this.running(), recordingIn: (b) => this.recordingIn(b), load: (b) => this.loadStandby(b) }, log);
  }

  /**
   * Checks the executable, launches the warm browsers and loads the standby recorder pages
   * (`standbyUrl`) in them, so a recording starts without paying for launch or load.
   * First ends the browsers a dead predecessor left running.
   */
  async start(standbyUrl: string): Promise<void> {
    await this.launcher.prepare();
    this.standbyUrl = standbyUrl;
    for (let i = 0; i < this.opts.warmBrowsers; i++) this.browsers.push(await this.launch());
    await this.standby.fill();
  }

  /** Standby pages are loaded again only while `gate` says the worker could take another recording. */
  gateStandby(gate: () => boolean): void {
    this.standby.mayLoad = gate;
  }

  /** A loaded recorder page, in its own browser context: a standby one when there is one. */
  async openPage(): Promise<RecorderPage> {
    return this.give((await this.standby.take()) ?? (await this.loadStandby(await this.browser())));
  }

  /** An operator's layout page at `url` (see loadUrlPage), in its own browser context. */
  async openUrlPage(url: string, size: { width: number; height: number }, beforeLoad?: (page: Page) => void | Promise<void>): Promise<RecorderPage> {
    return this.give(await loadUrlPage(await this.browser(), url, size, beforeLoad));
  }

  /** Process ids of every running browser process tree root (for cost measurement and leak checks). */
  pids(): number[] {
    return this.browsers.map((b) => b.process()?.pid).filter((p): p is number => typeof p === 'number');
  }

  /** 'disconnected' listeners on the browsers beyond the launcher's own (for leak checks: one per live recording). */
  recordingListeners(): number {
    return this.browsers.reduce((n, b) => n + b.listenerCount('disconnected') - LAUNCHER_LISTENERS, 0);
  }

  /**
   * Pages of recordings still open across the browsers, with any page they opened (for leak
   * checks). Standby pages, loading or loaded, are not a recording's until taken.
   */
  async openPages(): Promise<number> {
    let n = 0;
    for (const b of this.browsers) if (b.connected) n += (await b.pages()).filter((p) => this.given.has(p.browserContext())).length;
    return n;
  }

  /** Standby recorder pages loaded and waiting in a running browser (dispatch prefers a worker with one). */
  warmPages(): Promise<number> {
    return this.standby.ready();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.standby.close();
    const all = this.browsers;
    this.browsers = [];
    await Promise.allSettled(all.map((b) => this.launcher.close(b)));
  }

  private give(page: RecorderPage): RecorderPage {
    const context = page.page.browserContext();
    this.given.add(context);
    this.live.add(context);
    return {
      ...page,
      close: () => {
        this.live.delete(context);
        return page.close();
      },
    };
  }

  private recordingIn(browser: Browser): boolean {
    for (const context of this.live) if (context.browser() === browser) return true;
    return false;
  }

  private async loadStandby(browser: Browser): Promise<RecorderPage> {
    if (!this.standbyUrl) throw new AppError('INTERNAL', 'browser pool not started');
    return loadRecorderPage(browser, this.standbyUrl);
  }

  /** The browsers still running (a crashed one is dropped here). */
  private running(): Browser[] {
    this.browsers = this.browsers.filter((b) => b.connected);
    return this.browsers;
  }

  private async browser(): Promise<Browser> {
    if (this.closed) throw new AppError('INTERNAL', 'browser pool is closed');
    const running = this.running();
    if (running.length > 0) {
      // the least busy browser: fewest open targets
      const loads = await Promise.all(running.map(async (b) => (await b.pages()).length));
      return running[loads.indexOf(Math.min(...loads))];
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

  private launch(): Promise<Browser> {
    return this.launcher.launch(() => this.closed);
  }
}
