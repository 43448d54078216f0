import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import express from 'express';
import { AppError } from '../errors';
import { withSignedSegmentUrls } from '../storage/playlist-urls';

/** What /files needs of the local storage provider. */
export interface SignedFiles {
  verifySignedUrl(key: string, expires: string, signature: string): boolean;
  head(key: string): Promise<{ size: number; contentType?: string } | null>;
  createReadStream(key: string, range?: { start: number; end?: number }): Promise<NodeJS.ReadableStream>;
  /** Signs the segments of an HLS playlist it serves. */
  signedUrl(key: string): Promise<string>;
}

export interface StreamableFile {
  size: number;
  contentType: string;
  fileName?: string;
  open(range?: { start: number; end: number }): Promise<NodeJS.ReadableStream>;
}

/** Sends a file with Range support: 200, 206 with Content-Range, or 416. */
export async function streamFile(req: express.Request, res: express.Response, f: StreamableFile): Promise<void> {
  const range = parseRange(req.get('range'), f.size);
  res.setHeader('accept-ranges', 'bytes');
  if (range === 'unsatisfiable') {
    res.setHeader('content-range', `bytes */${f.size}`);
    throw new AppError('RANGE_NOT_SATISFIABLE', `range not satisfiable for ${f.size} bytes`);
  }
  res.setHeader('content-type', f.contentType);
  if (f.fileName) res.setHeader('content-disposition', `attachment; filename="${f.fileName}"`);
  if (range) {
    res.status(206);
    res.setHeader('content-range', `bytes ${range.start}-${range.end}/${f.size}`);
    res.setHeader('content-length', String(range.end - range.start + 1));
  } else {
    res.status(200);
    res.setHeader('content-length', String(f.size));
  }
  if (req.method === 'HEAD' || f.size === 0) {
    res.end();
    return;
  }
  const stream = await f.open(range ?? undefined);
  await pipeline(stream, res).catch((err: unknown) => {
    req.log?.warn({ err: (err as Error).message }, 'download interrupted');
  });
}

/** GET /files/*key: local storage's signed URLs (S3 and GCS sign and serve their own). */
export function signedFileRoutes(files: SignedFiles): express.Router {
  const router = express.Router();
  // the signature is the authorisation: these URLs are handed out to host and participants
  router.get('/files/*key', async (req, res) => {
    const key = ([] as string[]).concat((req.params as { key: string | string[] }).key).join('/');
    const { expires, signature } = req.query as Record<string, string | undefined>;
    const info = expires && signature && files.verifySignedUrl(key, expires, signature) ? await files.head(key) : null;
    if (!info) throw new AppError('NOT_FOUND', 'no such file, or the link has expired');
    res.setHeader('cache-control', 'private, no-store');
    if (key.endsWith('.m3u8')) {
      // an HLS playlist: its segments signed too, so the playlist's link is all a player needs
      const text = (await buffer(await files.createReadStream(key))).toString('utf8');
      res.type(info.contentType ?? 'application/vnd.apple.mpegurl').send(await withSignedSegmentUrls(text, key, (k) => files.signedUrl(k)));
      return;
    }
    await streamFile(req, res, {
      size: info.size,
      contentType: info.contentType ?? 'application/octet-stream',
      open: (range) => files.createReadStream(key, range),
    });
  });
  return router;
}

/**
 * One byte range of an HTTP Range header (RFC 9110: bytes=a-b, a-, -n). Null: serve it all
 * (no header, or a form we do not serve such as several ranges); 'unsatisfiable': 416.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim());
  if (!m) return header.trim().startsWith('bytes=') && !header.includes(',') ? 'unsatisfiable' : null;
  const [, a, b] = m;
  if (a === '' && b === '') return 'unsatisfiable';
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || (b !== '' && Number(b) < start)) return 'unsatisfiable';
  return { start, end };
}

