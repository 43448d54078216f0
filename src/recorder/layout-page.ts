import fs from 'node:fs/promises';
import path from 'node:path';
import type { ConsoleMessage } from 'puppeteer-core';
import { AppError } from '../errors';
import type { RecorderPage } from './browser-pages';
import type { BrowserPool } from './browser-pool';
import { deferred, withDeadline } from './deadline';
import { isolatedWorld, pinTopFrameOrigin } from './page-guards';
import { bundledPageDir } from './static-files';
import type { RecordingOptions } from '../recordings/contract';
import { layoutSpelling } from '../../recorder-page/src/layouts/names';

/**
 * A custom layout page (LiveKit Egress's template contract): opened with what a layout
 * needs in its query (url, token, layout, width, height, fps), and, once it said
 * START_RECORDING, given the tab-capture script that records it, in a JavaScript world of
 * its own: the page never sees the ingest URL and its secret. Its top frame stays on the
 * layout URL's origin (the URL carries the room token): leaving it calls `onLeft`, before
 * the request is sent. END_RECORDING from it calls `onEnd`.
 */
export async function openLayoutPage(
  pool: BrowserPool,
  layoutUrl: string,
  launch: { livekitUrl: string; token: string; options: RecordingOptions; readyTimeoutMs: number },
  events: { onEnd: () => void; onLeft: (origin: string) => void },
): Promise<RecorderPage> {
  const o = launch.options;
  const target = new URL(layoutUrl);
  const query = { url: launch.livekitUrl, token: launch.token, layout: layoutSpelling(o.layout, o.theme), width: String(o.width), height: String(o.height), fps: String(o.fps) };
  for (const [k, v] of Object.entries(query)) target.searchParams.set(k, v);
  const ready = deferred<void>();
  const onConsole = (m: ConsoleMessage) => {
    const text = m.text();
    if (text === 'START_RECORDING') ready.resolve();
    else if (text === 'END_RECORDING') events.onEnd();
  };
  const left = deferred<never>();
  left.promise.catch(() => undefined);
  const onLeft = (origin: string) => {
    left.reject(new AppError('LAYOUT_PAGE_FAILED', `the custom layout page tried to navigate to ${origin}; it must stay on ${target.origin}`));
    events.onLeft(origin);
  };
  let opened: RecorderPage;
  try {
    opened = await pool.openUrlPage(target.toString(), { width: o.width, height: o.height }, async (page) => {
      page.on('console', onConsole);
      await pinTopFrameOrigin(page, target.origin, onLeft);
    });
  } catch (err) {
    throw new AppError('LAYOUT_PAGE_FAILED', `cannot load the custom layout page ${target.origin}${target.pathname}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const ms = launch.readyTimeoutMs;
    await withDeadline(Promise.race([ready.promise, left.promise]), ms, () => new AppError('LAYOUT_PAGE_FAILED', `the custom layout page did not say START_RECORDING within ${ms / 1000} s`));
    const run = await isolatedWorld(opened.page, 'recorder');
    await run(await fs.readFile(path.join(bundledPageDir(), 'tab-capture.js'), 'utf8'));
    return { ...opened, run };
  } catch (err) {
    await opened.close();
    throw err;
  }
}
