export default async function globalTeardown(): Promise<void> {
  const started = globalThis.__testServices ?? [];
  await Promise.allSettled(started.map((s) => s.stop()));
}
