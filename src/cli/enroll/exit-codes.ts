import type { JobStatus } from '../../jobs/job.model.js';

/** The exit codes of `enroll` (documented in its --help and in the README). */
export const EXIT = {
  /** Done; for `import --wait`, the job completed without row errors. */
  ok: 0,
  /** The import completed, but some rows were invalid and skipped. */
  completedWithErrors: 1,
  /** The job failed, or the API refused the request or could not be reached. */
  failed: 2,
  /** The job was cancelled before it finished, or a held sync was rejected. */
  cancelled: 3,
  /** A roster sync is held for approval: nothing was applied (see its hold and changes). */
  held: 4,
  /** The command was called wrongly (unknown option, missing argument, unreadable file). */
  usage: 64,
} as const;

/** The exit code for a finished job's status. */
export function exitCodeOf(status: JobStatus): number {
  switch (status) {
    case 'completed':
      return EXIT.ok;
    case 'completed_with_errors':
      return EXIT.completedWithErrors;
    case 'cancelled':
    case 'rejected':
      return EXIT.cancelled;
    case 'awaiting_approval':
      return EXIT.held;
    case 'failed':
    case 'queued':
    case 'running':
      return EXIT.failed;
    default: {
      const unknown: never = status;
      return unknown;
    }
  }
}

/** A mistake in how the command was called (bad option, missing argument, unreadable file): exit 64. */
export class UsageError extends Error {
  override name = 'UsageError';
}
