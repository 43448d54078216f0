import type express from 'express';
import { Authenticator } from '../api/auth';
import { createApp, type SignedFiles } from '../api/app';
import type { Config } from '../config';
import { LivekitWebhookVerifier } from '../livekit/webhook';
import { buildCore, type Core, type CoreDeps } from './core';

/**
 * A process that serves the REST API (`all`, `serve`): the core parts and the express app on
 * them. The caller listens with `service.app` (http.ts) and calls close() on exit.
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
    auth: new Authenticator(config.auth),
    logger: core.logger,
    metrics: core.metrics,
    ...(config.api.metricsToken ? { metricsToken: config.api.metricsToken } : {}),
    readiness: core.readiness,
    ...(signedFiles ? { signedFiles } : {}),
    ...(config.livekit.webhookEnabled ? { livekitWebhook: new LivekitWebhookVerifier(config.livekit) } : {}),
  });
}
