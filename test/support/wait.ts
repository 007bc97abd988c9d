/** How long to wait before giving up, and how often to look. */
export type WaitOptions = { timeoutMs?: number; everyMs?: number };

/** What a check yields while it is not satisfied yet. */
type NotYet = false | null | undefined;

/**
 * The one way the tests wait: runs `check` every `everyMs` until it yields something other than
 * `false`, `null` or `undefined`, and returns that (so a check can hand back what it found).
 * Throws after `timeoutMs`, naming `what`; a function is asked at that moment, so the message can
 * tell the last thing seen. An error thrown by `check` (a failed `expect`) ends the wait at once.
 */
export async function waitFor<T>(
  what: string | (() => string),
  check: () => T | Promise<T>,
  { timeoutMs = 30_000, everyMs = 50 }: WaitOptions = {},
): Promise<Exclude<T, NotYet>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== false && value !== null && value !== undefined) return value as Exclude<T, NotYet>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
