import { zeroCounts, type Counts } from '../domain/counts.js';
import { FINISHED, type JobError, type JobResult, type JobStatus, type JobType } from './job.model.js';

/** The job as `GET /jobs/{id}` shows it (CONTRACT §4). */
export type JobView = {
  id: string;
  type: JobType;
  status: JobStatus;
  progress: { processed: number; total: number | null; percent: number | null };
  counts: Counts;
  error: JobError | null;
  result?: JobResult;
  /** File-level warnings of an import (e.g. ignored columns), when there are any. */
  warnings?: string[];
  /** An import's options, so that a dry run's counts are never read as changes made. */
  options?: ImportOptionsView;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
};

export type ImportOptionsView = { mode: 'set' | 'add'; dry_run: boolean };

/** A job row as the repository reads it (JOB_VIEW_COLUMNS). */
export type JobRecord = {
  id: string;
  type: JobType;
  status: JobStatus;
  counts: Partial<Counts>;
  processed: string;
  total: string | null;
  result: JobResult | null;
  error: JobError | null;
  warnings?: string[] | null;
  options?: ImportOptionsView | null;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
};

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** The API view of a job row: progress as a percentage (100 once finished without a known total). */
export function toJobView(r: JobRecord): JobView {
  const processed = Number(r.processed);
  const total = r.total === null ? null : Number(r.total);
  const finished = FINISHED.has(r.status);
  const percent = total === null ? (finished ? 100 : null) : total === 0 ? 100 : Math.min(100, Math.floor((processed / total) * 1000) / 10);
  const view: JobView = {
    id: r.id,
    type: r.type,
    status: r.status,
    progress: { processed, total, percent },
    counts: { ...zeroCounts(), ...r.counts },
    error: r.error,
    created_at: iso(r.created_at)!,
    started_at: iso(r.started_at),
    finished_at: iso(r.finished_at),
  };
  if (r.result) view.result = r.result;
  if (r.warnings?.length) view.warnings = r.warnings;
  if (r.options) view.options = r.options;
  return view;
}
