import type { Browser } from 'puppeteer-core';
import type { RecorderPage } from './browser-pages';
import type { Logger } from './logger';

interface Standby {
  browser: Browser;
  ready: Promise<RecorderPage>;
}

/**
 * Recorder pages loaded and waiting for their parameters, spread over the warm browsers, so
 * that many starts at once each find one. A page taken is replaced a moment later, one page
 * after another: loading a page costs about a core for a second, which would slow the joins
 * of a burst of starts and the live recordings beside them. And only while the gate says
 * the worker could take another recording: on a full worker a page load is what made the
 * running recordings drop frames (3 recordings started at once beside their publishers on
 * 2 cores: 17-25 frames in the seconds their replacements loaded), and no start would use it.
 * And not in a browser with a recording live while a standby page is left: a page loading
 * beside a live recording held back that recording's incoming media for about a second (its
 * packets came late and in a burst), so WebRTC concealed 140 to 675 ms of each participant's
 * sound and kept a receive buffer of 240 to 960 ms for the rest of the call, on a quiet
 * machine, 1.5 s into the recording. The page is loaded once that browser has no recording,
 * or at once when none is left, so that the next start still finds one.
 */
export class StandbyPages {
  private entries: Standby[] = [];
  private refillTimer?: NodeJS.Timeout;
  private nextBrowser = 0;
  private closed = false;
  /** Whether a page may be loaded now (default: always). */
  mayLoad: () => boolean = () => true;

  constructor(
    private readonly target: number,
    private readonly source: { browsers: () => Browser[]; recordingIn: (browser: Browser) => boolean; load: (browser: Browser) => Promise<RecorderPage> },
    private readonly log: Logger,
  ) {}

  /** Loads every standby page at once (at start); rejects if one fails to load. */
  async fill(): Promise<void> {
    this.refill(true);
    await Promise.all(this.entries.map((s) => s.ready));
  }

  /** A loaded standby page in a running browser, or undefined when none is left. */
  async take(): Promise<RecorderPage | undefined> {
    for (;;) {
      const spare = this.entries.shift();
      if (!spare) return undefined;
      this.scheduleRefill();
      const page = await spare.ready.catch(() => undefined);
      if (page && spare.browser.connected && !page.page.isClosed()) return page;
    }
  }

  /** Standby pages loaded and waiting in a running browser. */
  async ready(): Promise<number> {
    const loaded = this.entries.map((s) => {
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
    const spares = this.entries;
    this.entries = [];
    await Promise.allSettled(spares.map(async (s) => (await s.ready).close()));
  }

  private scheduleRefill(delayMs = 1500): void {
    if (this.closed || this.refillTimer) return;
    this.refillTimer = setTimeout(() => this.refill(), delayMs);
    this.refillTimer.unref();
  }

  /** Loads standby pages up to the target: all at once at start, else one after another. */
  private refill(allAtOnce = false): void {
    this.refillTimer = undefined;
    if (!allAtOnce && this.entries.length < this.target && !this.mayLoad()) return this.scheduleRefill(2000);
    const running = this.source.browsers();
    // beside a live recording only when no standby page is left (see above)
    const quiet = running.filter((b) => !this.source.recordingIn(b));
    const browsers = quiet.length > 0 ? quiet : allAtOnce || this.entries.length === 0 ? running : [];
    if (browsers.length === 0 && running.length > 0 && this.entries.length < this.target) return this.scheduleRefill(2000);
    while (!this.closed && browsers.length > 0 && this.entries.length < this.target) {
      const ready = this.prepare(browsers[this.nextBrowser++ % browsers.length]);
      if (!allAtOnce) {
        void ready.then(() => this.refill(), () => this.scheduleRefill());
        return;
      }
    }
  }

  private prepare(browser: Browser): Promise<RecorderPage> {
    const ready = this.source.load(browser);
    const entry = { browser, ready };
    ready.catch((err: Error) => {
      this.log.warn({ err: err.message }, 'standby page failed to load');
      this.entries = this.entries.filter((s) => s !== entry);
    });
    this.entries.push(entry);
    return ready;
  }
}
