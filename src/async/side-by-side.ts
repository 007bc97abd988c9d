/**
 * Runs `run` over `tasks` in their order, `width` at a time. A task that returns something other
 * than null stops the run: no task starts after it, the running ones finish, and the first such
 * value is returned (null when every task ran). A task that throws stops it the same way, and the
 * error is thrown once the running ones have finished.
 */
export async function sideBySide<T, S>(tasks: readonly T[], width: number, run: (task: T) => Promise<S | null>): Promise<S | null> {
  let next = 0;
  let stop = null as S | null;
  let failure = null as { err: unknown } | null;
  const lane = async () => {
    while (stop === null && failure === null && next < tasks.length) {
      try {
        const outcome = await run(tasks[next++]!);
        if (outcome !== null) stop ??= outcome;
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, width) }, lane));
  if (failure) throw failure.err;
  return stop;
}
