import { expect } from 'vitest';
import type { App } from '../../src/http/app.js';
import type { ChangeView, HistoryItemView } from '../../src/history/change.model.js';
import type { JobView } from '../../src/jobs/job-view.js';
import type { Deps } from '../../src/process/deps.js';
import { ADMIN } from './env.js';
import { waitForJob } from './jobs.js';

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

/** What a change says, without its position or ids: for comparing a preview with what was done. */
export const changeFacts = ({ kind, email, course_name, before, after, line }: ChangeView) => ({ kind, email, course_name, before, after, line });

/** Every item of a student's history, newest first, page by page through GET /students/{id}/history. */
export async function studentHistory(app: App, studentId: number, pageSize = 1000): Promise<HistoryItemView[]> {
  const all: HistoryItemView[] = [];
  for (let cursor: string | null = ''; cursor !== null; ) {
    const res = await app.request(`/api/v1/students/${studentId}/history?limit=${pageSize}${cursor ? `&cursor=${cursor}` : ''}`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: HistoryItemView[]; next_cursor: string | null };
    all.push(...page.items);
    cursor = page.next_cursor;
  }
  return all;
}

/** POST /jobs/{id}/revert (`query`: `dry_run=true`, `force=true`) with the admin token, or the headers given. */
export async function requestRevert(app: App, jobId: string, query = '', headers: Record<string, string> = ADMIN) {
  const res = await app.request(`/api/v1/jobs/${jobId}/revert${query ? `?${query}` : ''}`, { method: 'POST', headers });
  return { status: res.status, body: (await res.json()) as any };
}

/** Reverts a job: checks the 202 answer, waits for the revert to finish, and checks its counts against its changes. */
export async function revertJob(app: App, jobId: string, query = ''): Promise<JobView> {
  const res = await requestRevert(app, jobId, query);
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ job_id: expect.any(String), status_url: `/api/v1/jobs/${res.body.job_id}` });
  const revert = await waitForJob(app, res.body.job_id);
  expect(revert).toMatchObject({ type: 'revert', reverts: jobId });
  await expectCountsMatchChanges(app, revert);
  return revert;
}

/** The roster tables as they are, row by row with their ids (sources left out: they are not history). */
export async function rosterTables(deps: Pick<Deps, 'orm'>) {
  const conn = deps.orm.em.getConnection();
  const students = await conn.execute<Array<{ id: number; name: string; email: string }>>(`select id::int, name, email from students order by id`);
  const enrollments = await conn.execute<Array<{ id: number; student_id: number; course_id: number; active: boolean }>>(
    `select id::int, student_id::int, course_id::int, active from course_enrollments order by id`,
  );
  return { students, enrollments };
}
export type RosterTables = Awaited<ReturnType<typeof rosterTables>>;

/**
 * A revert restored the tables as they were before the job (`before`): every student and enrollment
 * that existed then is exactly as it was (names, emails, active flags); the rows the job created
 * stay, students as they are and enrollments inactive (students are never deleted). Returns the
 * numbers of rows created.
 */
export function expectRestored(before: RosterTables, after: RosterTables): { students: number; enrollments: number } {
  const oldStudents = new Set(before.students.map((s) => s.id));
  const oldEnrollments = new Set(before.enrollments.map((e) => e.id));
  expect(after.students.filter((s) => oldStudents.has(s.id))).toEqual(before.students);
  expect(after.enrollments.filter((e) => oldEnrollments.has(e.id))).toEqual(before.enrollments);
  const created = after.enrollments.filter((e) => !oldEnrollments.has(e.id));
  expect(created.filter((e) => e.active)).toEqual([]);
  return { students: after.students.length - before.students.length, enrollments: created.length };
}
