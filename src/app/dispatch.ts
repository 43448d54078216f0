import type { Config } from '../config';
import { LocalDispatcher } from '../dispatch/local';
import { RedisDispatcher, type RedisPoolOptions } from '../dispatch/redis';
import { RedisViewCache } from '../dispatch/view-cache';
import type { HealthCheck } from '../observability/health';
import type { Logger } from '../observability/logger';
import type { RecordingEventBus } from '../recordings/events';
import { viewKeys, type DispatchPort, type ViewCachePort } from '../recordings/ports';
import type { PrismaRecordingRepository } from '../db/recording-repository';
import type { RecordingRunner } from '../recordings/runner';
import type { StreamSecrets } from '../recordings/secrets';

export interface Dispatch {
  dispatcher: DispatchPort & { close(): Promise<void> };
  /** With Redis: the shared cache of call and recording views. */
  views?: ViewCachePort;
  /** With Redis: its readiness check. */
  redisReady?: HealthCheck;
}

/**
 * Who runs a recording: through Redis when config.redis.url is set (any worker of the
 * deployment, this process's runner among them), else in this process (its runner, or none).
 */
export async function buildDispatch(
  config: Config,
  parts: {
    workerId: string;
    runner?: RecordingRunner;
    warmPages?: () => Promise<number>;
    bus: RecordingEventBus;
    repo: PrismaRecordingRepository;
    secrets: StreamSecrets;
    logger: Logger;
    tuning?: Partial<RedisPoolOptions>;
    viewCacheTtlMs?: number;
  },
): Promise<Dispatch> {
  if (!config.redis.url) return { dispatcher: new LocalDispatcher(parts.runner) };
  const { logger, repo } = parts;
  const redis = new RedisDispatcher({
    url: config.redis.url,
    workerId: parts.workerId,
    ...(parts.runner ? { runner: parts.runner } : {}),
    ...(parts.warmPages ? { warmPages: parts.warmPages } : {}),
    onError: (err) => logger.warn({ err }, 'redis'),
    ownerTtlMs: config.redis.ownerTtlMs,
    ...parts.tuning,
    secrets: parts.secrets,
  });
  await redis.start();
  redis.attach(parts.bus);
  // The read path (GET call, GET recording) through Redis; every write of any process drops what it touched.
  const cache = new RedisViewCache(redis.redis, {
    prefix: redis.prefix,
    ...(parts.viewCacheTtlMs !== undefined ? { ttlMs: parts.viewCacheTtlMs } : {}),
    onError: (err) => logger.warn({ err }, 'redis view cache'),
  });
  repo.onChange = async ({ callId, recordingId }) => {
    await cache.invalidate([...(callId ? [viewKeys.call(callId)] : []), ...(recordingId ? [viewKeys.recording(recordingId)] : [])]);
  };
  return { dispatcher: redis, views: cache, redisReady: () => redis.ping() };
}
