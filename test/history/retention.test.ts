import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reconcileOnce } from '../../src/jobs/reconciler.js';
import type { JobView } from '../../src/jobs/job-view.js';
import { truncateAll } from '../support/deps.js';
import { ADMIN } from '../support/env.js';
import { expectCountsMatchChanges, jobChanges, studentHistory } from '../support/history.js';
import { createHistoryService } from '../support/history-service.js';
import { importCsv } from '../support/imports.js';
import { applyWrite } from '../support/jobs.js';
import type { TestService } from '../support/service.js';

/** CONTRACT §6: history is kept as long as its job (JOB_RETENTION_HOURS), and deleted with it. */

let service: TestService;
beforeAll(async () => {
  service = await createHistoryService();
});
afterAll(() => service.close());
beforeEach(() => truncateAll(service.api));

const sql = <T = any>(text: string, params: unknown[] = []) => service.api.orm.em.getConnection().execute<T[]>(text, params);
/** Makes a job look finished `hours` ago. */
const age = (job: JobView, hours: number) => sql(`update jobs set finished_at = now() - make_interval(hours => ?) where id = ?`, [hours, job.id]);
const changeRows = async (job: JobView) =>
  (await sql<{ n: number }>(`select count(*)::int as n from changes c join jobs j on j.seq = c.job_seq where j.id = ?`, [job.id]))[0]!.n;

describe('history is deleted with its job (CONTRACT §6)', () => {
  it("the reconciler's pass deletes an expired job's changes; the student's history no longer lists them, the rest stays", async () => {
    const imported = await importCsv(service.app, 'name,email,course_name\nAda,ada@x.edu,Math\n');
    const { id } = (await sql<{ id: number }>(`select id::int from students`))[0]!;
    const renamed = await applyWrite(service.app, 'PUT', `/admin/students/${id}`, { name: 'Ada L.', course_name: 'Art' });
    const moved = await applyWrite(service.app, 'POST', '/admin/enrollments', { student_id: id, course_name: 'Math', action: 'add' });
    for (const job of [imported, renamed, moved]) await expectCountsMatchChanges(service.app, job);
    expect(await changeRows(renamed)).toBe(2);
    expect((await studentHistory(service.app, id)).map((h) => h.job_id)).toEqual([moved.id, renamed.id, renamed.id, renamed.id, imported.id, imported.id]);

    // Kept while within JOB_RETENTION_HOURS (a week by default), gone after it.
    await age(renamed, 100);
    await age(imported, 1000);
    expect(await reconcileOnce(service.api)).toMatchObject({ deletedJobs: 1 });
    expect((await studentHistory(service.app, id)).map((h) => [h.job_id, h.kind])).toEqual([
      [moved.id, 'enrollment_activated'],
      [renamed.id, 'enrollment_deactivated'],
      [renamed.id, 'enrollment_created'],
      [renamed.id, 'student_renamed'],
    ]);
    expect((await service.app.request(`/api/v1/jobs/${imported.id}/changes`, { headers: ADMIN })).status).toBe(404);

    await age(renamed, 1000);
    expect(await reconcileOnce(service.api)).toMatchObject({ deletedJobs: 1 });
    expect(await changeRows(renamed)).toBe(0);
    expect(await sql(`select count(*)::int as n from changes`)).toEqual([{ n: 1 }]);
    expect((await studentHistory(service.app, id)).map((h) => [h.job_id, h.kind])).toEqual([[moved.id, 'enrollment_activated']]);
    expect((await service.app.request(`/api/v1/jobs/${renamed.id}/changes`, { headers: ADMIN })).status).toBe(404);
    // The data itself stays as the jobs left it.
    expect(await sql(`select s.name, c.name as course, e.active from course_enrollments e join students s on s.id = e.student_id join courses c on c.id = e.course_id order by c.name`)).toEqual([
      { name: 'Ada L.', course: 'Art', active: true },
      { name: 'Ada L.', course: 'Math', active: true },
    ]);
  });
});

describe('a job that changed nothing costs nothing to read (CONTRACT §6)', () => {
  it('an empty list, an empty CSV, and no change rows', async () => {
    const first = await importCsv(service.app, 'name,email,course_name\nAda,ada@x.edu,Math\n');
    const again = await importCsv(service.app, 'name,email,course_name\nAda,ada@x.edu,Math\n');
    const failed = await importCsv(service.app, 'email\nada@x.edu\n');
    expect(again.counts).toMatchObject({ rows: 1, unchanged: 1 });
    expect(failed.status).toBe('failed');
    for (const job of [again, failed]) {
      expect(await expectCountsMatchChanges(service.app, job)).toEqual([]);
      expect(await changeRows(job)).toBe(0);
      const res = await service.app.request(`/api/v1/jobs/${job.id}/changes?kind=enrollment_created`, { headers: ADMIN });
      expect(await res.json()).toEqual({ items: [], next_cursor: null });
      const csv = await (await service.app.request(`/api/v1/jobs/${job.id}/changes?format=csv`, { headers: ADMIN })).text();
      expect(csv).toBe('seq,kind,student_id,email,course_id,course_name,before,after,line\r\n');
    }
    expect(await jobChanges(service.app, first.id)).toHaveLength(2);
  });
});
