import { randomUUID } from 'node:crypto';
import express, { type Request } from 'express';
import helmet from 'helmet';
import { AppError } from '../errors';
import type { LivekitEvent } from '../livekit/webhook';
import { runChecks, type HealthCheck } from '../observability/health';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Actor } from '../recordings/permissions';
import type { PresetAssetService } from '../recordings/preset-asset-service';
import type { LayoutPresetService } from '../recordings/preset-service';
import type { RecordingsService } from '../recordings/service';
import { metricsAllowed, type Authenticator } from './auth';
import { errorHandler, notFound } from './errors';
import { signedFileRoutes, streamFile, type SignedFiles } from './files';
import { parse, send } from './io';
import { layoutPresetRoutes } from './layout-presets';
import { studioApiRoutes, studioPage, type StudioApiOptions } from './studio';
import {
  AddMarkerBody,
  AddParticipantsBody,
  CallParams,
  CreateCallBody,
  ListRecordingsQuery,
  ParticipantParams,
  RecordingParams,
  StartRecordingBody,
  StopRecordingBody,
  UpdateRecordingBody,
} from './schemas';
import { buildOpenApiDocument } from './openapi';

export interface AppDeps {
  service: RecordingsService;
  /** /api/layout-presets; without it those paths are 404. */
  presets?: LayoutPresetService;
  /** /api/layout-presets/:name/assets (with presets). */
  presetAssets?: PresetAssetService;
  /** The layout studio: /studio and /api/studio; without it those paths are 404. */
  studio?: StudioApiOptions;
  auth: Authenticator;
  logger: Logger;
  metrics?: Metrics;
  /** When set, /metrics is only for `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  /** Verifies LiveKit webhooks; without it /api/livekit/webhook is 404. */
  livekitWebhook?: { verify(rawBody: string, authorization: string | undefined): Promise<LivekitEvent> };
  /** Readiness checks (database, redis, recorder). */
  readiness?: Record<string, HealthCheck>;
  bodyLimitBytes?: number;
  /** Local storage: serves its signed URLs under /files (S3 and GCS sign their own). */
  signedFiles?: SignedFiles;
}

declare module 'express-serve-static-core' {
  interface Request {
    id?: string;
    log?: Logger;
    actor?: Actor;
  }
}

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The HTTP API. No listen() here: the caller owns the server. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  const limit = deps.bodyLimitBytes ?? 64 * 1024;
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(helmet());

  // Request id, child logger, access log and request metrics (never headers or query strings).
  app.use((req, res, next) => {
    const given = req.get('x-request-id');
    req.id = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.log = deps.logger.child({ reqId: req.id });
    res.setHeader('x-request-id', req.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      deps.metrics?.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      if (req.path === '/healthz' || req.path === '/readyz' || req.path === '/metrics') return;
      req.log!.info({ method: req.method, path: req.path, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    next();
  });

  // ---- public endpoints ------------------------------------------------------------------
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const result = await runChecks(deps.readiness ?? {});
    res.status(result.ready ? 200 : 503).json(result);
  });
  app.get('/metrics', async (req, res) => {
    if (!deps.metrics) throw new AppError('NOT_FOUND', 'metrics are disabled');
    if (!metricsAllowed(req.get('authorization'), deps.metricsToken)) {
      res.set('WWW-Authenticate', 'Bearer');
      throw new AppError('UNAUTHORIZED', 'metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    const { contentType, body } = await deps.metrics.render();
    res.type(contentType).send(body);
  });
  let openapi: Record<string, unknown> | undefined;
  app.get('/api/openapi.json', (_req, res) => {
    openapi ??= buildOpenApiDocument();
    res.json(openapi);
  });

  // LiveKit signs the raw body: read it as bytes, before any JSON parser.
  app.post('/api/livekit/webhook', express.raw({ type: () => true, limit }), async (req, res) => {
    if (!deps.livekitWebhook) throw new AppError('NOT_FOUND', 'LiveKit webhooks are disabled');
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const event = await deps.livekitWebhook.verify(raw, req.get('authorization'));
    req.log?.info({ event: event.event, room: event.roomName }, 'livekit webhook');
    await deps.service.handleLivekitEvent(event);
    res.json({ success: true, data: { received: event.event }, message: 'ok' });
  });

  // ---- the authenticated API ------------------------------------------------------------------
  const api = express.Router();
  api.use(express.json({ limit, strict: true, type: ['application/json', 'application/*+json'] }));
  api.use((req, _res, next) => {
    const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
    // a preset asset's upload is the image itself (api/preset-assets.ts reads and checks it)
    const assetUpload = req.method === 'PUT' && /^\/layout-presets\/[^/]+\/assets\/[^/]+$/.test(req.path);
    if (hasBody && !assetUpload && !req.is(['application/json', 'application/*+json'])) {
      return next(new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'));
    }
    next();
  });
  api.use(async (req, _res, next) => {
    req.actor = await deps.auth.authenticate({
      authorization: req.headers.authorization,
      'x-api-key': req.headers['x-api-key'],
      'x-user-id': req.headers['x-user-id'],
    });
    next();
  });
  /** Every route but creating a call acts for a user. */
  const user = (req: Request): Actor => {
    const actor = req.actor!;
    if (!actor.userId) throw new AppError('UNAUTHORIZED', 'a service key must name the user in X-User-Id');
    return actor;
  };

  api.post('/video-calls', async (req, res) => {
    const body = parse(CreateCallBody, req.body, 'body');
    const call = await deps.service.createCall(req.actor!, body);
    send(res, 201, call, 'call created');
  });
  api.get('/video-calls/:callId', async (req, res) => {
    const { callId } = parse(CallParams, req.params, 'path');
    send(res, 200, await deps.service.getCall(user(req), callId), 'ok');
  });
  api.post('/video-calls/:callId/participants', async (req, res) => {
    const { callId } = parse(CallParams, req.params, 'path');
    const { userIds } = parse(AddParticipantsBody, req.body, 'body');
    send(res, 200, await deps.service.addParticipants(user(req), callId, userIds), 'participants added');
  });
  api.delete('/video-calls/:callId/participants/:userId', async (req, res) => {
    const { callId, userId } = parse(ParticipantParams, req.params, 'path');
    send(res, 200, await deps.service.removeParticipant(user(req), callId, userId), 'participant removed');
  });
  api.post('/video-calls/:callId/recording/start', async (req, res) => {
    const { callId } = parse(CallParams, req.params, 'path');
    const options = parse(StartRecordingBody, req.body ?? {}, 'body');
    const key = req.get('idempotency-key');
    const { recording, replayed } = await deps.service.startRecording(user(req), callId, options, key);
    if (replayed) res.setHeader('idempotent-replayed', 'true');
    const data = { id: recording.id, callId: recording.callId, status: recording.status, startedAt: recording.startedAt };
    send(res, replayed ? 200 : 201, data, replayed ? 'recording already started with this Idempotency-Key' : 'recording started');
  });
  api.post('/video-calls/:callId/recording/stop', async (req, res) => {
    const { callId } = parse(CallParams, req.params, 'path');
    const { recordingId } = parse(StopRecordingBody, req.body ?? {}, 'body');
    send(res, 200, await deps.service.stopRecording(user(req), callId, recordingId), 'recording stopping');
  });
  api.post('/video-calls/:callId/recording/pause', async (req, res) => {
    const { callId } = parse(CallParams, req.params, 'path');
    const { recordingId } = parse(StopRecordingBody, req.body ?? {}, 'body');
    send(res, 200, await deps.service.pauseRecording(user(req), callId, recordingId), 'recording paused');
  });
  api.post('/video-calls/:callId/recording/resume', async (req, res) => {
    const { callId } = parse(CallParams, req.params, 'path');
    const { recordingId } = parse(StopRecordingBody, req.body ?? {}, 'body');
    send(res, 200, await deps.service.resumeRecording(user(req), callId, recordingId), 'recording resumed');
  });
  api.post('/video-calls/:callId/recording/markers', async (req, res) => {
    const { callId } = parse(CallParams, req.params, 'path');
    const marker = parse(AddMarkerBody, req.body ?? {}, 'body');
    send(res, 201, await deps.service.addMarker(user(req), callId, marker), 'marker added');
  });
  api.get('/video-calls/:callId/recording/:recordingId', async (req, res) => {
    const { callId, recordingId } = parse(RecordingParams, req.params, 'path');
    send(res, 200, await deps.service.getRecording(user(req), callId, recordingId), 'ok');
  });
  api.patch('/video-calls/:callId/recording/:recordingId', async (req, res) => {
    const { callId, recordingId } = parse(RecordingParams, req.params, 'path');
    const change = parse(UpdateRecordingBody, req.body ?? {}, 'body');
    send(res, 200, await deps.service.updateRecording(user(req), callId, recordingId, change), 'recording changed');
  });
  api.delete('/video-calls/:callId/recording/:recordingId', async (req, res) => {
    const { callId, recordingId } = parse(RecordingParams, req.params, 'path');
    send(res, 200, await deps.service.deleteRecording(user(req), callId, recordingId), 'recording deleted');
  });
  api.post('/video-calls/:callId/recording/:recordingId/retry', async (req, res) => {
    const { callId, recordingId } = parse(RecordingParams, req.params, 'path');
    send(res, 202, await deps.service.retryRecording(user(req), callId, recordingId), 'post-processing again');
  });
  api.get('/video-calls/:callId/recording/:recordingId/download', async (req, res) => {
    const { callId, recordingId } = parse(RecordingParams, req.params, 'path');
    const d = await deps.service.downloadRecording(user(req), callId, recordingId);
    res.setHeader('cache-control', 'no-store');
    if (d.kind === 'url') {
      send(res, 200, { url: d.url, expiresAt: d.expiresAt }, 'signed download URL');
      return;
    }
    await streamFile(req, res, d);
  });
  api.get('/video-calls/:callId/recordings', async (req, res) => {
    const { callId } = parse(CallParams, req.params, 'path');
    const q = parse(ListRecordingsQuery, { ...(req.query as object) }, 'query');
    const list = await deps.service.listRecordings(user(req), callId, { limit: q.limit, includeDeleted: q.includeDeleted === 'true' });
    send(res, 200, list, 'ok');
  });
  if (deps.presets) api.use('/layout-presets', layoutPresetRoutes(deps.presets, deps.presetAssets));
  if (deps.studio) api.use('/studio', studioApiRoutes(deps.studio));
  app.use('/api', api);
  if (deps.studio) app.use(studioPage());

  if (deps.signedFiles) app.use(signedFileRoutes(deps.signedFiles));

  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
