export { LocalDispatcher } from './local';
export { RedisDispatcher, type RedisPoolOptions } from './redis';
export { RedisViewCache, type RedisViewCacheOptions } from './view-cache';
