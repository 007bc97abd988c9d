/**
 * Group commit: items added while earlier batches are in flight are handled together, in one
 * call of `flush`. When idle, an item is flushed on the next turn of the event loop (no added
 * latency); under load, batches grow by themselves. Each `add` resolves with its own result
 * (`flush` answers one result per item, in order) or rejects with its batch's error.
 */
export function createBatcher<T, R = void>(flush: (items: T[]) => Promise<R[] | void>, opts: { maxInFlight: number; maxBatch: number }) {
  type Pending = { item: T; resolve: (result: R) => void; reject: (err: unknown) => void };
  let pending: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;

  const run = () => {
    scheduled = false;
    while (pending.length && inFlight < opts.maxInFlight) {
      const batch = pending.slice(0, opts.maxBatch);
      pending = pending.slice(batch.length);
      inFlight++;
      flush(batch.map((p) => p.item))
        .then(
          (results) => batch.forEach((p, i) => p.resolve(results?.[i] as R)),
          (err) => batch.forEach((p) => p.reject(err)),
        )
        .finally(() => {
          inFlight--;
          schedule();
        });
    }
  };
  const schedule = () => {
    if (!scheduled && pending.length) {
      scheduled = true;
      setImmediate(run);
    }
  };

  return (item: T): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      schedule();
    });
}
