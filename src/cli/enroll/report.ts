import type { JobView } from '../../jobs/job-view.js';
import type { Client } from './client.js';
import { exitCodeOf } from './exit-codes.js';
import type { Io } from './io.js';
import { printJobSummary } from './summary.js';

const FIRST_ERRORS = 10;

/**
 * Prints a settled job (its summary, then its first row errors: a revert's are its conflicts) and
 * returns the exit code of its status.
 */
export async function reportJob(client: Client, job: JobView, io: Io): Promise<number> {
  printJobSummary(job, io.stdout);
  if (job.counts.invalid > 0) {
    const errors = await client.firstErrors(job.id, FIRST_ERRORS);
    const what = job.type === 'revert' ? 'conflicts (values left as they are)' : 'row errors';
    io.stdout.write(`First ${errors.length} ${what} of ${job.counts.invalid}:\n`);
    for (const e of errors) {
      const where = [e.line === null ? null : `line ${e.line}`, e.column].filter(Boolean).join(', ');
      io.stdout.write(`  ${where}: ${e.message} [${e.code}]${e.value === null ? '' : ` (value: ${JSON.stringify(e.value)})`}\n`);
    }
    io.stdout.write(`All of them as CSV: enroll errors ${job.id} > errors.csv\n`);
  }
  return exitCodeOf(job.status);
}
