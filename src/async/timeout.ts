/**
 * Resolves as `promise` does if it settles within `ms`, else rejects: with `timeoutError()`, or
 * with "<what> did not answer within <ms> ms". Health checks, scrapes and downloads must not hang.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string | (() => Error)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(typeof what === 'string' ? new Error(`${what} did not answer within ${ms} ms`) : what()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
