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
  /** An import's or a revert's options, so that a dry run's counts are never read as changes made. */
  options?: ImportOptionsView | RevertOptionsView;
  /** An import's file name (the multipart file name, or `?filename=`), when it was given one. */
  file_name?: string | null;
  /** A revert: the job it undoes. */
  reverts?: string;
  /** A job that was reverted: its revert. */
  reverted_by?: string;
  /** A sync awaiting approval (or held before): why, and its figures (CONTRACT §7). */
  hold?: Hold;
  /**
   * What a running import or revert is doing: `staging` (reading and checking the file), `planning`
   * (comparing it with the roster), `applying` (rows are applied and counted in `progress`), `sweeping`.
   */
  phase?: JobPhase;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
};

export type ImportOptionsView = {
  mode: 'set' | 'add' | 'sync';
  dry_run: boolean;
  source?: string | null;
  scope?: 'courses' | 'all';
  max_deactivate_percent?: number;
  max_deactivate?: number | null;
  max_invalid_percent?: number;
};

export type RevertOptionsView = { dry_run: boolean; force: boolean };

export type JobPhase = 'staging' | 'planning' | 'applying' | 'sweeping';

/** Why a sync was held, with the figures an operator needs to decide (CONTRACT §7). */
export type Hold = {
  reason: 'max_deactivate_percent' | 'max_deactivate' | 'max_invalid_percent';
  deactivations: number;
  active_in_scope: number;
  /** The percentage compared with `threshold` (of the deactivations, or of the invalid rows). */
  percent: number;
  threshold: number;
  rows: number;
  invalid: number;
};

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
  options?: ImportOptionsView | RevertOptionsView | null;
  file_name?: string | null;
  reverts?: string | null;
  reverted_by?: string | null;
  hold?: Hold | null;
  phase?: JobPhase | null;
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
  if (r.type === 'import') view.file_name = r.file_name ?? null;
  if (r.reverts) view.reverts = r.reverts;
  if (r.reverted_by) view.reverted_by = r.reverted_by;
  if (r.hold) view.hold = r.hold;
  if (r.phase) view.phase = r.phase;
  return view;
}
