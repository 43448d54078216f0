export interface ApiReply {
  status: number;
  body: any;
  /** The Retry-After header (seconds), when the answer has one. */
  retryAfter?: number;
}

/**
 * One call to the recorder's REST API with `token` as the Bearer (a user's JWT or the service
 * key): `body`, when given, sent as JSON; the reply's JSON parsed (null when it has none).
 */
export async function apiRequest(base: string, token: string, method: string, urlPath: string, body?: unknown, opts: { timeoutMs?: number } = {}): Promise<ApiReply> {
  const res = await fetch(base + urlPath, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(opts.timeoutMs ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
  });
  const text = await res.text();
  const retryAfter = res.headers.get('retry-after');
  return { status: res.status, body: text ? JSON.parse(text) : null, ...(retryAfter ? { retryAfter: Number(retryAfter) } : {}) };
}

/**
 * A start as a call app makes it: refused with 503 NO_CAPACITY (the machine measured busy, as
 * it may be for a few seconds after a test's recording ends on a loaded CI host), tried again
 * after its Retry-After, for up to `withinMs`. Any other answer is returned as it is.
 */
export async function untilAdmitted(start: () => Promise<ApiReply>, withinMs = 60_000): Promise<ApiReply> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const reply = await start();
    if (reply.status !== 503 || reply.body?.error?.code !== 'NO_CAPACITY' || reply.retryAfter === undefined || Date.now() + reply.retryAfter * 1000 > deadline) return reply;
    await new Promise((r) => setTimeout(r, reply.retryAfter! * 1000));
  }
}
