// The stable code of a synchronous failure, for tests that assert codes, not messages.

/** The `code` of what `fn` throws, or undefined when it does not throw. */
export function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
  return undefined;
}
