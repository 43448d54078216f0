export interface ApiReply {
  status: number;
  body: any;
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
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
