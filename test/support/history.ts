import { expect } from 'vitest';
import type { App } from '../../src/http/app.js';
import type { ChangeView } from '../../src/history/change.model.js';
import type { JobView } from '../../src/jobs/job-view.js';
import { ADMIN } from './env.js';

/** Every change of a job, page by page through GET /jobs/{id}/changes (`query` adds filters). */
export async function jobChanges(app: App, jobId: string, query = '', pageSize = 1000): Promise<ChangeView[]> {
  const all: ChangeView[] = [];
  for (let cursor: string | null = ''; cursor !== null; ) {
    const res = await app.request(`/api/v1/jobs/${jobId}/changes?limit=${pageSize}${cursor ? `&cursor=${cursor}` : ''}${query}`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: ChangeView[]; next_cursor: string | null };
    all.push(...page.items);
    cursor = page.next_cursor;
  }
  return all;
}

/** A change without its position, for comparing lists. */
export const withoutSeq = ({ seq: _seq, ...change }: ChangeView) => change;

/**
 * The invariant of CONTRACT §6: a job's counts equal its recorded changes of each kind (a student
 * renamed and re-emailed by one row counts once in `students_updated`), and `seq` runs 1, 2, ….
 * Returns the changes.
 */
export async function expectCountsMatchChanges(app: App, job: JobView): Promise<ChangeView[]> {
  const changes = await jobChanges(app, job.id);
  expect(changes.map((c) => c.seq)).toEqual(changes.map((_, i) => i + 1));
  const n = (kind: ChangeView['kind']) => changes.filter((c) => c.kind === kind).length;
  const updatedLines = new Set(changes.filter((c) => c.kind === 'student_renamed' || c.kind === 'student_email_changed').map((c) => `${c.student_id}:${c.line}`));
  expect({
    students_created: n('student_created'),
    students_updated: updatedLines.size,
    enrollments_created: n('enrollment_created'),
    enrollments_activated: n('enrollment_activated'),
    enrollments_deactivated: n('enrollment_deactivated'),
  }).toEqual({
    students_created: job.counts.students_created,
    students_updated: job.counts.students_updated,
    enrollments_created: job.counts.enrollments_created,
    enrollments_activated: job.counts.enrollments_activated,
    enrollments_deactivated: job.counts.enrollments_deactivated,
  });
  return changes;
}
