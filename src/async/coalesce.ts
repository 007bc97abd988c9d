/**
 * Wraps an async task so that concurrent callers share runs: a call while a run is going waits
 * for the *next* run (which starts after the current one), so every caller is served by a run
 * that began after it called. Many callers, few runs.
 */
export function coalesce(task: () => Promise<unknown>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const start = (): Promise<void> => {
    running = task().then(
      () => {
        running = null;
      },
      (err) => {
        running = null;
        throw err;
      },
    );
    return running;
  };
  return () => {
    if (!running) return start();
    next ??= running.catch(() => {}).then(() => {
      next = null;
      return start();
    });
    return next;
  };
}
