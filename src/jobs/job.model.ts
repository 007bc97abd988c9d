import type { EnrollmentCommand } from '../domain/enrollment.js';
import type { FieldError } from '../domain/validation.js';
import type { FileScan } from '../imports/csv-scan.js';

/**
 * The one model of a job (STYLE §4): its types, its statuses and what each type carries. A new
 * type or status is one line here (and a migration for the table's check constraints); every
 * `switch` over them ends in a `never` default, so a forgotten case is a compile error.
 */

/** One action, a batch of actions, a CSV import, the undoing of a job (CONTRACT §6). */
export const JOB_TYPES = ['command', 'batch', 'import', 'revert'] as const;
export type JobType = (typeof JOB_TYPES)[number];

/** `awaiting_approval` and `rejected`: a roster sync held past a threshold (CONTRACT §7). */
export const JOB_STATUSES = ['queued', 'running', 'completed', 'completed_with_errors', 'failed', 'cancelled', 'awaiting_approval', 'rejected'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The statuses a job never leaves. */
export const FINISHED_STATUSES = ['completed', 'completed_with_errors', 'failed', 'cancelled', 'rejected'] as const satisfies readonly JobStatus[];
export type FinishedStatus = (typeof FINISHED_STATUSES)[number];
export const FINISHED: ReadonlySet<JobStatus> = new Set(FINISHED_STATUSES);

/** The statuses in which no worker has anything to do: finished, or waiting for an operator. */
export const SETTLED: ReadonlySet<JobStatus> = new Set([...FINISHED_STATUSES, 'awaiting_approval']);

/** What a command or batch job carries: its actions, in order. */
export type CommandPayload = { commands: EnrollmentCommand[] };

export type ImportMode = 'set' | 'add' | 'sync';

/** A roster sync's options (CONTRACT §7): its scope and the thresholds past which it holds. */
export type SyncOptions = {
  scope: 'courses' | 'all';
  max_deactivate_percent: number;
  max_deactivate: number | null;
  max_invalid_percent: number;
};

/** The options of an import, as the query string gives them. */
export type ImportOptions = { mode: ImportMode; dryRun: boolean; source: string | null; fileName: string | null; sync: SyncOptions | null };

/**
 * What an import job carries; the file itself is in `upload_chunks`. `scan` is the whole-file CSV
 * check made while the file was uploaded (absent in jobs accepted before it existed: their worker
 * scans the stored file). `approved`: a held sync an operator approved.
 */
export type ImportPayload = {
  upload_id: string;
  mode: ImportMode;
  dry_run: boolean;
  size_bytes: number;
  sha256: string;
  scan?: FileScan;
  source?: string | null;
  file_name?: string | null;
} & Partial<SyncOptions> & { approved?: boolean };

/** What a revert carries: the job it undoes (its id and seq), and its options (CONTRACT §6). */
export type RevertPayload = { reverts: string; reverts_seq: number; dry_run: boolean; force: boolean };

/** Every job as it is stored: its type with the payload of that type. */
export type JobPayload =
  | { type: 'command' | 'batch'; payload: CommandPayload }
  | { type: 'import'; payload: ImportPayload }
  | { type: 'revert'; payload: RevertPayload };

/** A row error of a job: `line` is the file line (imports) or the 1-based command index (batches). */
export type JobRowError = Omit<FieldError, 'column'> & { column: string | null; line: number | null };

export type JobError = { code: string; message: string };
export type JobResult = { student_id: number | null; course_id: number | null; enrollment_id: number | null };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a string that can be a job id (a UUID): anything else is simply not found. */
export const isJobId = (id: string): boolean => UUID.test(id);
