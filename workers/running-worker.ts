/** A running background worker: `close()` finishes or hands back its current work. */
export type RunningWorker = { name: string; close(): Promise<void> };
