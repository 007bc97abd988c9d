import { createMetrics } from '../../src/process/metrics.js';
import type { Deps } from '../../src/process/deps.js';

/** Every sample of a Prometheus text page, keyed by `name{labels}`. */
export function samplesOf(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

/** The counters as a registry of its own reads them now (the app's registry shares one read per second). */
export async function readCounters(sources: Pick<Deps, 'orm' | 'queues' | 'queueBackend'>) {
  const samples = samplesOf(await createMetrics(sources).registry.metrics());
  return {
    samples,
    finished: (type: string, status: string) => samples.get(`enroll_jobs_finished_total{type="${type}",status="${status}"}`),
    rowsApplied: samples.get('enroll_import_rows_applied_total')!,
  };
}
export type Counters = Awaited<ReturnType<typeof readCounters>>;

/** What the counters grew by between two reads: finished jobs keyed `type/status` (zeros left out), and rows applied. */
export function growth(before: Counters, after: Counters) {
  const finished: Record<string, number> = {};
  for (const [key, value] of after.samples) {
    const m = /^enroll_jobs_finished_total\{type="(\w+)",status="(\w+)"\}$/.exec(key);
    const grew = value - (before.samples.get(key) ?? 0);
    if (m && grew) finished[`${m[1]}/${m[2]}`] = grew;
  }
  return { finished, rowsApplied: after.rowsApplied - before.rowsApplied };
}
