import { AppError } from '../errors';
import type { RecorderPage } from './browser-pool';
import type { Logger } from './logger';
import type { RecordingOptions } from '../recordings/contract';

/** The recorder page's launch parameters (see recorder-page/src/main.ts). */
export function launchQuery(livekitUrl: string, token: string, ingestUrl: string, o: RecordingOptions, presenceWaitMs: number): URLSearchParams {
  const params = new URLSearchParams({
    url: livekitUrl,
    token,
    ingest: ingestUrl,
    width: String(o.width),
    height: String(o.height),
    fps: String(o.fps),
    layout: o.layout,
    format: o.format,
    presenceWaitMs: String(presenceWaitMs),
  });
  if (o.videoBitrate) params.set('vbr', String(o.videoBitrate));
  if (o.audioBitrate) params.set('abr', String(o.audioBitrate));
  if (o.background) params.set('background', o.background);
  return params;
}

/**
 * Logs what the page reports and calls `onCrash` when the page or its browser dies.
 * Returns the function that detaches from the browser (the page's own listeners go with it).
 */
export function watchPage(opened: RecorderPage, log: Logger, onCrash: (error: AppError) => void): () => void {
  const { page } = opened;
  page.on('pageerror', (err) => log.warn({ err: (err as Error).message }, 'recorder page error'));
  page.on('console', (m) => {
    if (m.type() === 'error') log.debug({ text: m.text() }, 'recorder page console');
  });
  page.on('error', (err) => onCrash(new AppError('BROWSER_CRASHED', `recorder page crashed: ${err.message}`)));
  const browser = page.browser();
  const onBrowserGone = () => onCrash(new AppError('BROWSER_CRASHED', 'the recorder browser exited'));
  // on/off with the same function: puppeteer's once() wraps the handler and off() would miss it
  browser.on('disconnected', onBrowserGone);
  return () => browser.off('disconnected', onBrowserGone);
}
