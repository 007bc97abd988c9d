import type { Hold, ImportOptionsView, JobView } from '../../jobs/job-view.js';

/**
 * Prints a settled job for people: status, an import's file and options or the job a revert
 * undoes, counts, warnings, the job-level error, and a held sync's hold.
 */
export function printJobSummary(job: JobView, out: NodeJS.WritableStream): void {
  const c = job.counts;
  const seconds = job.started_at && job.finished_at ? ` in ${((Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000).toFixed(1)} s` : '';
  const lines = [
    `Job ${job.id} (${job.type}): ${job.status}${seconds}`,
    ...(job.file_name ? [`  file: ${job.file_name}`] : []),
    ...optionLines(job),
    `  rows: ${c.rows} (${c.valid} valid, ${c.invalid} invalid)`,
    `  students: ${c.students_created} created, ${c.students_updated} updated`,
    `  enrollments: ${c.enrollments_created} created, ${c.enrollments_activated} activated, ${c.enrollments_deactivated} deactivated`,
    `  unchanged: ${c.unchanged}`,
  ];
  for (const w of job.warnings ?? []) lines.push(`  warning: ${w}`);
  if (job.error) lines.push(`  error: ${job.error.message} [${job.error.code}]`);
  if (job.status === 'awaiting_approval' && job.hold) lines.push(...holdLines(job.id, job.hold));
  out.write(`${lines.join('\n')}\n`);
}

/**
 * An import's mode and options, a revert's target, and whether it was a dry run: its counts then
 * say what it would have done, not what it did.
 */
function optionLines(job: JobView): string[] {
  const options = job.options;
  if (job.reverts) {
    const how = options && 'force' in options && options.force ? ' (force: values changed since are restored too)' : '';
    const lines = [`  reverts: ${job.reverts}${how}`];
    if (options?.dry_run) lines.push('  dry run: nothing was changed; this is what the revert would do:');
    return lines;
  }
  if (!options) return [];
  if (!('mode' in options)) return options.dry_run ? ['  dry run: nothing was changed; this is what the revert would do:'] : [];
  const described = describeImport(options);
  return [options.dry_run ? `  dry run (${described}): nothing was changed; this is what the import would do:` : `  ${described.replace(/^mode /, 'mode: ')}`];
}

/** "mode sync, scope courses, source sis-nightly": the options that say what the counts mean. */
function describeImport(options: ImportOptionsView): string {
  const parts = [`mode ${options.mode}`];
  if (options.mode === 'sync' && options.scope) parts.push(`scope ${options.scope}`);
  if (options.source) parts.push(`source ${options.source}`);
  return parts.join(', ');
}

/** Why a sync is held, its figures, and what the operator can do next. */
function holdLines(jobId: string, hold: Hold): string[] {
  const figures =
    hold.reason === 'max_invalid_percent'
      ? `${hold.invalid} invalid of ${hold.rows} rows (${hold.percent}%)`
      : `${hold.deactivations} deactivations of ${hold.active_in_scope} enrollments active in scope (${hold.percent}%)`;
  return [
    `  held: ${figures}, above ${hold.reason} ${hold.threshold}`,
    '  nothing was applied: the counts are what the sync would do',
    `  what it would change: enroll changes ${jobId}`,
    `  then: enroll approve ${jobId}, or enroll reject ${jobId}`,
  ];
}
