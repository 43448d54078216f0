import type Redis from 'ioredis';
import type { ViewCachePort } from '../recordings/ports';

/**
 * The read cache of call and recording views in Redis: `<p>:view:<key>` holds the JSON view
 * for `ttlMs`; `<p>:view:<key>:gen` counts invalidations. A read that misses notes the
 * generation before it loads from the database and stores its result only if no
 * invalidation came in between, so a slow reader never puts back a stale view.
 * Redis failures fall back to the database.
 */
const FILL = `if (redis.call('get', KEYS[2]) or '0') == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;

export interface RedisViewCacheOptions {
  prefix: string;
  /** How long a view is served without a database read (default 30 s). */
  ttlMs?: number;
  onError?: (err: unknown) => void;
}

export class RedisViewCache implements ViewCachePort {
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisViewCacheOptions,
  ) {
    this.ttlMs = opts.ttlMs ?? 30_000;
  }

  private k(key: string): string {
    return `${this.opts.prefix}:view:${key}`;
  }

  async read<T>(key: string, load: () => Promise<T | null>): Promise<T | null> {
    let gen = '0';
    try {
      const [value, g] = await this.redis.mget(this.k(key), `${this.k(key)}:gen`);
      if (value) return JSON.parse(value) as T;
      gen = g ?? '0';
    } catch (err) {
      this.opts.onError?.(err);
      return load();
    }
    const value = await load();
    if (value !== null) {
      await this.redis.eval(FILL, 2, this.k(key), `${this.k(key)}:gen`, gen, JSON.stringify(value), this.ttlMs).catch((err) => this.opts.onError?.(err));
    }
    return value;
  }

  async invalidate(keys: string[]): Promise<void> {
    if (!keys.length) return;
    const multi = this.redis.multi();
    // The generation outlives any read in flight by far; a lost one only refuses a fill.
    for (const key of keys) multi.incr(`${this.k(key)}:gen`).pexpire(`${this.k(key)}:gen`, Math.max(600_000, this.ttlMs * 10)).del(this.k(key));
    await multi.exec().then(
      () => undefined,
      (err) => this.opts.onError?.(err),
    );
  }
}
