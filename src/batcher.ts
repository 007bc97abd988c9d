/**
 * Group commit: items added while earlier batches are in flight are written together, in one
 * call of `flush`. When idle, an item is flushed on the next tick (no added latency); under load,
 * batches grow by themselves. Each `add` resolves (or rejects) with its own batch.
 */
export function createBatcher<T>(flush: (items: T[]) => Promise<void>, opts: { maxInFlight: number; maxBatch: number }) {
  let pending: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  let inFlight = 0;
  let scheduled = false;

  const run = () => {
    scheduled = false;
    while (pending.length && inFlight < opts.maxInFlight) {
      const batch = pending.slice(0, opts.maxBatch);
      pending = pending.slice(batch.length);
      inFlight++;
      flush(batch.map((p) => p.item)).then(
        () => batch.forEach((p) => p.resolve()),
        (err) => batch.forEach((p) => p.reject(err)),
      ).finally(() => {
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

  return (item: T): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      schedule();
    });
}
