import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

/**
 * The path and query of a request target, split without parsing it as a URL: `new URL`
 * throws on targets such as `//` or `http://[`, and any byte string can arrive here.
 * Absolute-form targets (`http://host/path`) keep only their path; the path is not decoded.
 */
export function requestTarget(raw: string | undefined): { path: string; query: URLSearchParams } {
  let target = raw ?? '/';
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (absolute) target = target.slice(absolute[0].length) || '/';
  const q = target.search(/[?#]/);
  const pathname = q < 0 ? target : target.slice(0, q);
  const query = q < 0 || target[q] === '#' ? '' : target.slice(q + 1).split('#')[0];
  // URLSearchParams decodes leniently: a malformed escape stays as it is, it never throws
  return { path: pathname, query: new URLSearchParams(query) };
}

/**
 * Serves the bundled pages under `/recorder/<file>` (flat names only, no traversal).
 * Returns false when the request is not for one of them.
 */
export function serveBundledPage(dir: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const match = /^\/recorder\/([A-Za-z0-9_.-]+)$/.exec(requestTarget(req.url).path);
  const type = match ? TYPES[path.extname(match[1])] : undefined;
  if (!match || !type || req.method !== 'GET') return false;
  fs.readFile(path.join(dir, match[1]), (err, body) => {
    if (err) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
  return true;
}

/** The recorder-page/dist folder of this package, from source (src/...) or built (dist/src/...). */
export function bundledPageDir(): string {
  const root = path.resolve(__dirname, '..', '..');
  return path.join(path.basename(root) === 'dist' ? path.dirname(root) : root, 'recorder-page', 'dist');
}
