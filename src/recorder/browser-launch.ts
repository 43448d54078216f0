import fs from 'node:fs/promises';
import puppeteer, { type Browser } from 'puppeteer-core';
import { AppError } from '../errors';
import { BrowserOwnership, type BrowserClaim } from './browser-ownership';
import type { Logger } from './logger';
import { weightSession } from './session-weight';

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

/** The launcher's own 'disconnected' listener on each browser (launch()). */
export const LAUNCHER_LISTENERS = 1;

export interface LaunchOptions {
  chromiumPath: string;
  extraArgs: string[];
  /** Each browser's session weight (recorder/session-weight.ts); 0 or unset: as it starts. */
  sessionNice?: number;
  /** Window size for tab-capture pages; canvas pages do not depend on it. */
  windowWidth?: number;
  windowHeight?: number;
}

/**
 * Starts and ends the Chromium processes of a worker: each one is claimed in the worker's
 * ownership records (its profile, its process group) before launch, and whatever is left of
 * it (helpers, profile) is removed when it closes or crashes.
 */
export class BrowserLauncher {
  private readonly claims = new WeakMap<Browser, BrowserClaim>();

  /** The browsers' session weight: 0 once a weighting failed (said once, not at each launch). */
  private sessionNice: number;

  constructor(
    private readonly opts: LaunchOptions,
    private readonly ownership: BrowserOwnership,
    private readonly log: Logger,
  ) {
    this.sessionNice = opts.sessionNice ?? 0;
  }

  /** Checks the executable, then ends the browsers a dead predecessor left running. */
  async prepare(): Promise<void> {
    await assertChromium(this.opts.chromiumPath);
    await this.ownership.sweep();
  }

  /** `closing()` says whether a disconnect is expected (the pool is closing) or a crash. */
  async launch(closing: () => boolean): Promise<Browser> {
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
      // the browser leads a session of its own (puppeteer detaches it): weighted as the worker's
      if (pid !== undefined && this.sessionNice && !weightSession(this.sessionNice, this.log, pid)) this.sessionNice = 0;
      this.claims.set(browser, claim);
      browser.on('disconnected', () => {
        if (!closing()) this.log.warn({ pid }, 'browser disconnected');
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

  async close(browser: Browser): Promise<void> {
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
}

export async function assertChromium(executable: string): Promise<void> {
  try {
    await fs.access(executable, fs.constants.X_OK);
  } catch {
    throw new AppError('CHROMIUM_NOT_FOUND', `Chromium not found at "${executable}": install it (scripts/bootstrap) or set CHROMIUM_PATH`);
  }
}
