import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

/**
 * Serves the bundled pages under `/recorder/<file>` (flat names only, no traversal).
 * Returns false when the request is not for one of them.
 */
export function serveBundledPage(dir: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = /^\/recorder\/([A-Za-z0-9_.-]+)$/.exec(url.pathname);
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
