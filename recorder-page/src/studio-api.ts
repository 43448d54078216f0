import type { PresetView } from './studio-settings';

/**
 * The studio's calls to the API it is served by. The token the user pastes (a user's bearer
 * JWT or a service key, both sent as `Authorization: Bearer`) lives in sessionStorage: gone
 * when the tab closes, never in the page's files or its URL.
 */
const TOKEN_KEY = 'recorder-studio-token';

/** An answer of the API that is not a success: its stable code, its message and its details (a 4xx's, when it has them). */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class StudioApi {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  set token(value: string | null) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  listPresets(): Promise<PresetView[]> {
    return this.call('GET', '/api/layout-presets');
  }

  /** PUT: creates the preset or replaces its settings. */
  savePreset(name: string, body: Record<string, unknown>): Promise<PresetView> {
    return this.call('PUT', `/api/layout-presets/${encodeURIComponent(name)}`, body);
  }

  deletePreset(name: string): Promise<PresetView> {
    return this.call('DELETE', `/api/layout-presets/${encodeURIComponent(name)}`);
  }

  /** The API's rules over the settings, writing nothing. */
  check(body: Record<string, unknown>): Promise<unknown> {
    return this.call('POST', '/api/studio/check', body);
  }

  /** An overlay image from an allowed origin, as a data: URL the canvas can draw. */
  async image(url: string): Promise<string> {
    return (await this.call<{ dataUrl: string }>('POST', '/api/studio/image', { url })).dataUrl;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = this.token;
    if (!token) throw new ApiRefusal(401, 'UNAUTHORIZED', 'paste an API token above first');
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const reply = (await res.json().catch(() => null)) as { success?: boolean; data?: T; error?: { code?: string; message?: string; details?: unknown } } | null;
    if (res.ok && reply?.success) return reply.data as T;
    throw new ApiRefusal(res.status, reply?.error?.code ?? `HTTP_${res.status}`, reply?.error?.message ?? res.statusText, reply?.error?.details);
  }
}
