import type { CDPSession, Page } from 'puppeteer-core';

/**
 * Keeps a page's top frame on one origin: every document request of the main frame
 * (navigations, redirects, `location = ...`) to another origin is refused before it is
 * sent, since the page's URL carries the recorder's room token. Calls `onBlocked` with the
 * refused URL's origin. Subframes load what they like (their URLs carry nothing of ours).
 */
export async function pinTopFrameOrigin(page: Page, origin: string, onBlocked: (origin: string) => void): Promise<void> {
  const cdp = await page.createCDPSession();
  const { frameTree } = await cdp.send('Page.getFrameTree');
  const mainFrameId = frameTree.frame.id;
  cdp.on('Fetch.requestPaused', (e) => {
    let target = '';
    try {
      target = new URL(e.request.url).origin;
    } catch {
      /* not a URL we can read: refuse it */
    }
    const allowed = e.frameId !== mainFrameId || target === origin;
    if (!allowed) onBlocked(target || e.request.url.slice(0, 100));
    const answer = allowed ? cdp.send('Fetch.continueRequest', { requestId: e.requestId }) : cdp.send('Fetch.failRequest', { requestId: e.requestId, errorReason: 'BlockedByClient' });
    answer.catch(() => undefined); // the page may be closing
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: '*', resourceType: 'Document', requestStage: 'Request' }] });
}

/**
 * A JavaScript world of our own in the page's main frame: it shares the DOM (and so can
 * capture the tab) but none of the page's globals, so the page's own scripts can neither
 * read what we evaluate there (the ingest URL and its secret) nor replace our functions.
 */
export async function isolatedWorld(page: Page, name: string): Promise<(expression: string) => Promise<unknown>> {
  const cdp: CDPSession = await page.createCDPSession();
  const { frameTree } = await cdp.send('Page.getFrameTree');
  const { executionContextId } = await cdp.send('Page.createIsolatedWorld', { frameId: frameTree.frame.id, worldName: name, grantUniveralAccess: false });
  return async (expression) => {
    const res = await cdp.send('Runtime.evaluate', { expression, contextId: executionContextId, awaitPromise: true, returnByValue: true });
    if (res.exceptionDetails) {
      const detail = res.exceptionDetails.exception?.description ?? res.exceptionDetails.text;
      throw new Error(detail.split('\n')[0]);
    }
    return res.result.value;
  };
}
