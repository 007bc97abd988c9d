import type { JobView } from '../../jobs/job-view.js';

/** Prints a finished job for people: status, an import's mode, counts, warnings and the job-level error. */
export function printJobSummary(job: JobView, out: NodeJS.WritableStream): void {
  const c = job.counts;
  const seconds = job.started_at && job.finished_at ? ` in ${((Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000).toFixed(1)} s` : '';
  const lines = [
    `Job ${job.id} (${job.type}): ${job.status}${seconds}`,
    ...optionLines(job),
    `  rows: ${c.rows} (${c.valid} valid, ${c.invalid} invalid)`,
    `  students: ${c.students_created} created, ${c.students_updated} updated`,
    `  enrollments: ${c.enrollments_created} created, ${c.enrollments_activated} activated, ${c.enrollments_deactivated} deactivated`,
    `  unchanged: ${c.unchanged}`,
  ];
  for (const w of job.warnings ?? []) lines.push(`  warning: ${w}`);
  if (job.error) lines.push(`  error: ${job.error.message} [${job.error.code}]`);
  out.write(`${lines.join('\n')}\n`);
}

/** An import's mode, and whether it was a dry run: its counts then say what it would have done, not what it did. */
function optionLines(job: JobView): string[] {
  const options = job.options;
  if (!options) return [];
  if (!('mode' in options)) return options.dry_run ? ['  dry run: nothing was changed; this is what the revert would do:'] : [];
  const { mode, dry_run: dryRun } = options;
  return [dryRun ? `  dry run (mode ${mode}): nothing was changed; this is what the import would do:` : `  mode: ${mode}`];
}
