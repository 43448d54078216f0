import http from 'node:http';
import type express from 'express';
import type { Config } from '../config';
import { AppError } from '../errors';

/** The API's listener on config.api.host/port, and its http:// URL. */
export async function listen(app: express.Express, config: Config): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.api.port, config.api.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    server.close();
    throw listenError(err, config);
  }
  const address = server.address();
  const url = address && typeof address === 'object' ? `http://${hostForUrl(address.address)}:${address.port}` : `http://${config.api.host}:${config.api.port}`;
  return { server, url };
}

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

function listenError(err: unknown, config: Config): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new AppError('CONFIG_INVALID', `port ${config.api.port} on ${config.api.host} is in use: set PORT (or HOST)`, { cause: err });
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES') return new AppError('CONFIG_INVALID', `cannot listen on ${config.api.host}:${config.api.port} (${code}): set HOST/PORT`, { cause: err });
  return err;
}
