import type { BackfillPlan, BackfillResult, LegacyAudit, MissingPair } from './legacy.repository.js';

/** The one line both tools print on a database without the legacy tables. */
export function noLegacyTablesLine(verb: 'audit' | 'backfill'): string {
  return `no legacy group_members table: nothing to ${verb}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const ACTION_LABEL: Record<MissingPair['action'], string> = {
  create: 'no enrollment',
  reactivate: 'inactive enrollment',
  orphaned: 'course or student no longer exists',
};

/** One missing pair, for people: ids first (what the JSON has), then names when they exist. */
function describePair(p: MissingPair): string {
  const names = `${p.course_name ?? '?'} / ${p.student_email ?? '?'}`;
  return `    course ${p.course_id}, student ${p.student_id}  (${names})  ${ACTION_LABEL[p.action]}`;
}

/** The audit as a human-readable report, one figure per line. */
export function formatAudit(a: LegacyAudit): string {
  const lines = [
    'Legacy enrollment audit (group_members -> course_enrollments)',
    `  active group_members rows:                         ${a.active_memberships}`,
    `    of which in a group without a course:            ${a.memberships_without_course}`,
    `  students with an active membership:                ${a.students_with_active_membership}`,
    `    with at least one course_enrollments row:        ${a.students_with_any_enrollment}`,
    `  (course, student) pairs from active memberships:   ${a.pairs_total}`,
    `    with an active enrollment:                       ${a.pairs_covered}`,
    `    without one:                                     ${a.pairs_missing}` +
      `  (${a.missing_to_create} to create, ${a.missing_to_reactivate} to reactivate, ${a.missing_orphaned} orphaned)`,
    `  pair coverage (pairs with an active enrollment / all pairs): ${a.coverage_percent.toFixed(2)}%`,
    // The figure of the legacy script this audit replaces, which operators compare with.
    `  student coverage (students with an enrollment record / students with an active membership, as the legacy script): ${a.student_coverage_percent.toFixed(2)}%`,
  ];
  if (a.missing_examples.length > 0) {
    lines.push(`  examples of pairs without an active enrollment:`, ...a.missing_examples.map(describePair));
  }
  return lines.join('\n');
}

/** The dry run, for people: what a commit would write, and that nothing was written. */
export function formatPlan(p: BackfillPlan): string {
  const total = p.to_create + p.to_reactivate;
  const lines = ['Dry run: nothing was written.'];
  if (total === 0) {
    lines.push('Nothing to write: every writable legacy pair already has an active enrollment.');
  } else {
    lines.push(
      `Would write ${plural(total, 'active enrollment')}: ${p.to_create} new, ${p.to_reactivate} reactivated.`,
      `Sample (first ${p.sample.length}, by course_id, student_id):`,
      ...p.sample.map(describePair),
      'Run again with --commit to write them.',
    );
  }
  if (p.orphaned > 0) lines.push(orphanLine(p.orphaned));
  return lines.join('\n');
}

/** A committed backfill, for people. */
export function formatBackfill(r: BackfillResult): string {
  const total = r.created + r.reactivated;
  const lines =
    total === 0
      ? ['Nothing to write: every writable legacy pair already has an active enrollment. Nothing was changed.']
      : [
          `Wrote ${plural(total, 'active enrollment')}: ${r.created} new, ${r.reactivated} reactivated ` +
            `(${plural(r.batches, 'batch', 'batches')}).`,
        ];
  if (r.orphaned > 0) lines.push(orphanLine(r.orphaned));
  return lines.join('\n');
}

function orphanLine(n: number): string {
  return `Skipped ${plural(n, 'pair')} whose course or student no longer exists (see the audit's examples).`;
}
