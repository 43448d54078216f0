/** Readiness: named checks, each with a timeout; ready when all pass. */
export type HealthCheck = () => Promise<void> | void;

export interface ReadinessResult {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

export async function runChecks(checks: Record<string, HealthCheck>, timeoutMs = 2000): Promise<ReadinessResult> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(check),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs))),
        ]);
        return [name, { ok: true }] as const;
      } catch (err) {
        return [name, { ok: false, error: err instanceof Error ? err.message : String(err) }] as const;
      } finally {
        if (timer) clearTimeout(timer);
      }
    }),
  );
  const result: ReadinessResult = { ready: entries.every(([, r]) => r.ok), checks: {} };
  for (const [name, r] of entries) result.checks[name] = r;
  return result;
}
