import http from 'node:http';
import type express from 'express';
import { createApp } from '../api/app';
import type { SignedFiles } from '../api/files';
import { Authenticator } from '../api/auth';
import type { Config } from '../config';
import { AppError } from '../errors';
import { LivekitWebhookVerifier } from '../livekit/webhook';
import { buildCore, type Core, type CoreDeps } from './core';

/**
 * A process that serves the REST API (`all`, `serve`): the core parts and the express app on
 * them. The caller listens with `service.app` (listen() below) and calls close() on exit.
 */
export interface ServiceDeps extends CoreDeps {
  /** Local storage's signed URLs, served under /files. */
  signedFiles?: SignedFiles;
}

export interface Service extends Core {
  app: express.Express;
}

export async function createService(config: Config, deps: ServiceDeps = {}): Promise<Service> {
  const core = await buildCore(config, deps);
  try {
    return { ...core, app: buildHttpApp(config, core, deps.signedFiles) };
  } catch (err) {
    await core.close();
    throw err;
  }
}

/** The express app of a process's core, with the API's settings from the config. */
export function buildHttpApp(config: Config, core: Core, signedFiles?: SignedFiles): express.Express {
  return createApp({
    service: core.recordings,
    presets: core.presets,
    presetAssets: core.presetAssets,
    studio: { assetOrigins: config.recorder.assetOrigins, assets: core.presetAssetStore },
    auth: new Authenticator(config.auth),
    logger: core.logger,
    metrics: core.metrics,
    ...(config.api.metricsToken ? { metricsToken: config.api.metricsToken } : {}),
    readiness: core.readiness,
    ...(signedFiles ? { signedFiles } : {}),
    ...(config.livekit.webhookEnabled ? { livekitWebhook: new LivekitWebhookVerifier(config.livekit) } : {}),
  });
}

/** Where a listener binds, and the settings that name it (for the error when it cannot). */
export interface ListenAt {
  host: string;
  port: number;
  /** The env vars of host and port, e.g. HOST and PORT. */
  settings: { host: string; port: string };
}

/** The API's listener on config.api.host/port, and its http:// URL. */
export function listen(app: express.Express, config: Config): Promise<{ server: http.Server; url: string }> {
  return listenOn(app, { host: config.api.host, port: config.api.port, settings: { host: 'HOST', port: 'PORT' } });
}

/** An HTTP listener for `handler` (the API's express app, a worker's status handler) and its http:// URL. */
export async function listenOn(handler: http.RequestListener, at: ListenAt): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    server.close();
    throw listenError(err, at);
  }
  const address = server.address();
  const url = address && typeof address === 'object' ? `http://${hostForUrl(address.address)}:${address.port}` : `http://${at.host}:${at.port}`;
  return { server, url };
}

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

function listenError(err: unknown, at: ListenAt): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const names = `${at.settings.port} (or ${at.settings.host})`;
  if (code === 'EADDRINUSE') return new AppError('CONFIG_INVALID', `port ${at.port} on ${at.host} is in use: set ${names}`, { cause: err });
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES') return new AppError('CONFIG_INVALID', `cannot listen on ${at.host}:${at.port} (${code}): set ${at.settings.host}/${at.settings.port}`, { cause: err });
  return err;
}
