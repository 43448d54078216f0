/** The stable code of what `f` throws, or 'none' when it throws nothing. */
export function errorCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'none';
}
