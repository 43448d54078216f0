export { LocalDispatcher } from './local';
export { RedisDispatcher, type RedisPoolOptions } from './redis';
