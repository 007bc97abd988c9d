import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Orm } from '../db/orm.js';
import { zeroCounts, type Counts } from '../domain/counts.js';
import { readJobGroups, readJobTotals, type JobGroup, type JobTotals } from '../jobs/job-totals.repository.js';
import { FINISHED_STATUSES, JOB_TYPES } from '../jobs/job.model.js';
import type { QueueBackend } from '../queues/backend.js';
import { QUEUE_NAMES, type Queues } from '../queues/queues.js';
import { withTimeout } from '../async/timeout.js';

/** The Prometheus series of one process, in a registry of its own (no global state). */
export type Metrics = ReturnType<typeof createMetrics>;

/** Where the scrape-time series come from: the API process reads them, the workers write them. */
export type MetricSources = { orm: Orm; queues: Queues; queueBackend: Pick<QueueBackend, 'kind'> };

/** A scrape never waits longer than this on PostgreSQL or Redis. */
const SOURCE_TIMEOUT_MS = 5_000;
/** Scrapes within this window share one read (the gauges of one scrape, several scrapers). */
const SNAPSHOT_TTL_MS = 1_000;
const COUNT_KEYS = Object.keys(zeroCounts()) as Array<keyof Counts>;

/**
 * Builds the registry. With `sources`, the job and queue series are read at scrape time: the jobs
 * are finished by worker processes, so only PostgreSQL and Redis know the totals, and the process
 * that serves /metrics asks them (one grouped query and one getJobCounts per queue per scrape).
 */
export function createMetrics(sources?: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'enroll_' });
  const metrics = {
    registry,
    httpDuration: new Histogram({
      name: 'enroll_http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    jobsAccepted: new Counter({
      name: 'enroll_jobs_accepted_total',
      help: 'Jobs accepted by this API process, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
  };
  if (sources) registerScrapeTimeSeries(registry, sources);
  return metrics;
}

type Snapshot = {
  jobs: JobGroup[];
  /** Null when PostgreSQL could not be read: the counters then show no sample rather than a false reset. */
  totals: JobTotals | null;
  queues: Array<{ queue: string; counts: Record<string, number> }>;
  /** Per source read: `postgres`, and `redis` when the queues are on Redis (else their counts come from PostgreSQL). */
  up: Record<string, boolean>;
};

function registerScrapeTimeSeries(registry: Registry, sources: MetricSources): void {
  const snapshot = sharedFor(SNAPSHOT_TTL_MS, () => readSnapshot(sources));
  registerTotals(registry, snapshot);
  new Gauge({
    name: 'enroll_jobs',
    help: 'Jobs in PostgreSQL by type and status (finished ones are kept JOB_RETENTION_HOURS, so this drops; for rates see enroll_jobs_finished_total)',
    labelNames: ['type', 'status'] as const,
    registers: [registry],
    async collect() {
      const { jobs } = await snapshot();
      this.reset();
      for (const j of jobs) this.set({ type: j.type, status: j.status }, j.jobs);
    },
  });
  new Gauge({
    name: 'enroll_job_rows',
    help: 'Sum of the counts of the batch and import jobs in PostgreSQL (dry runs left out), by job type and count; drops with retention, for rates see enroll_import_rows_applied_total',
    labelNames: ['type', 'count'] as const,
    registers: [registry],
    async collect() {
      const { jobs } = await snapshot();
      this.reset();
      for (const type of new Set(jobs.map((j) => j.type).filter((t) => t !== 'command'))) {
        for (const key of COUNT_KEYS) {
          const sum = jobs.filter((j) => j.type === type).reduce((n, j) => n + (j.rows[key] ?? 0), 0);
          this.set({ type, count: key }, sum);
        }
      }
    },
  });
  new Gauge({
    name: 'enroll_queue_jobs',
    help: 'BullMQ jobs by queue and state (getJobCounts)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const { queues } = await snapshot();
      this.reset();
      for (const q of queues) for (const [state, n] of Object.entries(q.counts)) this.set({ queue: q.queue, state }, n);
    },
  });
  new Gauge({
    name: 'enroll_metrics_source_up',
    help: 'Whether the last scrape could read the source (1) or not (0)',
    labelNames: ['source'] as const,
    registers: [registry],
    async collect() {
      const { up } = await snapshot();
      this.reset();
      for (const [source, ok] of Object.entries(up)) this.set({ source }, ok ? 1 : 0);
    },
  });
}

/**
 * The counters: running totals kept in PostgreSQL (job-totals.repository.ts), read at scrape time
 * and exposed with their absolute value, so that they survive restarts and never drop when old
 * jobs are deleted. Every type and final status is shown, zero until one finishes, so that
 * `increase()` sees the first one.
 */
function registerTotals(registry: Registry, snapshot: () => Promise<Snapshot>): void {
  new Counter({
    name: 'enroll_jobs_finished_total',
    help: 'Jobs that reached a final status (completed, completed_with_errors, failed, cancelled), by type and status',
    labelNames: ['type', 'status'] as const,
    registers: [registry],
    async collect() {
      const { totals } = await snapshot();
      this.reset();
      if (!totals) return;
      for (const type of JOB_TYPES) for (const status of FINISHED_STATUSES) this.inc({ type, status }, 0);
      for (const t of totals.finished) this.inc({ type: t.type, status: t.status }, t.jobs);
    },
  });
  new Counter({
    name: 'enroll_import_rows_applied_total',
    help: 'Valid rows applied by imports, counted as each part commits (dry runs and invalid rows left out)',
    registers: [registry],
    async collect() {
      const { totals } = await snapshot();
      this.reset();
      if (totals) this.inc(totals.importRowsApplied);
      else this.remove({}); // no sample at all: a 0 would read as a counter reset
    },
  });
  new Counter({
    name: 'enroll_sync_holds_total',
    help: 'Roster syncs held for approval past a threshold (CONTRACT §7), counted as each one holds: alert on an increase',
    registers: [registry],
    async collect() {
      const { totals } = await snapshot();
      this.reset();
      if (totals) this.inc(totals.syncHolds);
      else this.remove({});
    },
  });
}

/**
 * One grouped query over `jobs`, one read of the totals, and one getJobCounts per queue; a source
 * that fails is reported down, not thrown.
 */
async function readSnapshot(sources: MetricSources): Promise<Snapshot> {
  const [jobs, totals, queues] = await Promise.allSettled([
    withTimeout(readJobGroups(sources.orm), SOURCE_TIMEOUT_MS, 'postgres'),
    withTimeout(readJobTotals(sources.orm), SOURCE_TIMEOUT_MS, 'postgres'),
    withTimeout(
      Promise.all(
        QUEUE_NAMES.map(async (queue) => ({ queue, counts: await sources.queues[queue].getJobCounts() })),
      ),
      SOURCE_TIMEOUT_MS,
      sources.queueBackend.kind,
    ),
  ]);
  const postgres = jobs.status === 'fulfilled' && totals.status === 'fulfilled';
  const queuesUp = queues.status === 'fulfilled';
  return {
    jobs: jobs.status === 'fulfilled' ? jobs.value : [],
    totals: totals.status === 'fulfilled' ? totals.value : null,
    queues: queues.status === 'fulfilled' ? queues.value : [],
    up: sources.queueBackend.kind === 'redis' ? { postgres, redis: queuesUp } : { postgres: postgres && queuesUp },
  };
}

/** Memoizes an async read for `ttlMs`, sharing the one in flight. */
function sharedFor<T>(ttlMs: number, read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > ttlMs) last = { at: Date.now(), value: read() };
    return last.value;
  };
}
