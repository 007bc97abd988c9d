import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus series of one process, in a registry of its own (no global state). */
export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'enroll_' });
  return {
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
      help: 'Jobs accepted by the API, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
  };
}
