// Number, size, duration and status wording for the admin page.

const numbers = new Intl.NumberFormat('en');

export const count = (n) => numbers.format(n);

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export const STATUS_TEXT = {
  queued: 'Queued: waiting for a worker',
  running: 'Running',
  completed: 'Completed',
  completed_with_errors: 'Completed with errors',
  failed: 'Failed',
  cancelled: 'Cancelled',
  awaiting_approval: 'Held for approval: nothing applied yet',
  rejected: 'Rejected: nothing applied',
};

/** Short status words for tables. */
export const STATUS_SHORT = {
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  completed_with_errors: 'Completed with errors',
  failed: 'Failed',
  cancelled: 'Cancelled',
  awaiting_approval: 'Held',
  rejected: 'Rejected',
};

export const CHANGE_KINDS = {
  student_created: 'Student created',
  student_renamed: 'Student renamed',
  student_email_changed: 'Email changed',
  enrollment_created: 'Enrollment created',
  enrollment_activated: 'Enrollment activated',
  enrollment_deactivated: 'Enrollment deactivated',
};

export const HOLD_REASONS = {
  max_deactivate_percent: 'it would deactivate more than the allowed percentage of the active enrollments in scope',
  max_deactivate: 'it would deactivate more enrollments than the allowed number',
  max_invalid_percent: 'more of its rows are invalid than the allowed percentage',
};

/** A date and time in the operator's locale, or an em dash. */
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

/** An import's or revert's options in a few words. */
export function optionsText(job) {
  const o = job.options;
  if (!o) return '';
  if (job.type === 'revert') return [o.dry_run ? 'dry run' : null, o.force ? 'force' : null].filter(Boolean).join(', ') || 'strict';
  const parts = [o.mode, o.dry_run ? 'dry run' : null, o.source ? `source ${o.source}` : null];
  if (o.mode === 'sync') {
    parts.push(`scope ${o.scope}`, `max ${o.max_deactivate_percent}% deactivated`);
    if (o.max_deactivate !== null && o.max_deactivate !== undefined) parts.push(`max ${o.max_deactivate} deactivations`);
    parts.push(`max ${o.max_invalid_percent}% invalid`);
  }
  return parts.filter(Boolean).join(', ');
}

export const COUNT_LABELS = [
  ['rows', 'Rows read'],
  ['valid', 'Valid rows'],
  ['invalid', 'Invalid rows (skipped)'],
  ['students_created', 'Students created'],
  ['students_updated', 'Students updated'],
  ['enrollments_created', 'Enrollments created'],
  ['enrollments_activated', 'Enrollments activated'],
  ['enrollments_deactivated', 'Enrollments deactivated'],
  ['unchanged', 'Rows that changed nothing'],
];

/**
 * Rows per second over the last ten seconds of samples; null until there is enough to say.
 * Call it with each new `processed` figure. Time in which nothing moved at all (a queued job, an
 * import still storing and counting its file) is left out, so the first ETA is not wildly long.
 */
export function rateMeter(windowMs = 10_000) {
  const samples = [];
  return (processed, now = performance.now()) => {
    if (samples.length && samples[0][1] === processed) samples.length = 0;
    samples.push([now, processed]);
    while (samples.length > 2 && now - samples[0][0] > windowMs) samples.shift();
    const [t0, p0] = samples[0];
    const seconds = (now - t0) / 1000;
    return seconds >= 0.5 && processed > p0 ? (processed - p0) / seconds : null;
  };
}
