import type { Browser, BrowserContext, Page } from 'puppeteer-core';

export interface RecorderPage {
  page: Page;
  /** Evaluates an expression where the recorder's script lives (awaiting a promise it returns). */
  run(expression: string): Promise<unknown>;
  close(): Promise<void>;
}

/** The bundled recorder page at `url`, loaded until its script says it is ready for its parameters. */
export function loadRecorderPage(browser: Browser, url: string): Promise<RecorderPage> {
  return pageInNewContext(browser, async (page) => {
    await page.goto(url, { waitUntil: 'load', timeout: 15000 });
    await page.waitForFunction('window.recorder && window.recorderState.marks.ready !== undefined', { timeout: 15000 });
  });
}

/**
 * An operator's layout page at `url`, its viewport at the output size (tab capture records
 * the viewport). `beforeLoad` sees the page before it navigates (to listen to its console
 * from the first line).
 */
export function loadUrlPage(browser: Browser, url: string, size: { width: number; height: number }, beforeLoad?: (page: Page) => void | Promise<void>): Promise<RecorderPage> {
  return pageInNewContext(browser, async (page) => {
    await page.setViewport({ width: size.width, height: size.height, deviceScaleFactor: 1 });
    // the capture script is injected into the operator's page; its CSP must not refuse it
    await page.setBypassCSP(true);
    await beforeLoad?.(page);
    const res = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
    if (res && !res.ok()) throw new Error(`HTTP ${res.status()}`);
  });
}

/** A page in a browser context of its own: no storage shared between recordings. */
async function pageInNewContext(browser: Browser, prepare: (page: Page) => Promise<void>): Promise<RecorderPage> {
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
