import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { truncateAll } from '../support/deps.js';
import { ADMIN } from '../support/env.js';
import { expectCountsMatchChanges } from '../support/history.js';
import { createHistoryService, enrollmentsByKey, seedRoster } from '../support/history-service.js';
import { importCsv, uploadCsv } from '../support/imports.js';
import { applyWrite, send } from '../support/jobs.js';
import type { TestService } from '../support/service.js';
import { syncCsv } from '../support/sync.js';

/**
 * CONTRACT §2, sources: an enrollment remembers the source of the last write that made it active
 * or found it active (none for a write by hand); a change of source alone is `unchanged` and no
 * change in the history. §7: a sync with a source sweeps only that source's enrollments.
 */

let service: TestService;
beforeAll(async () => {
  service = await createHistoryService();
});
afterAll(() => service.close());
beforeEach(() => truncateAll(service.api));

const sources = async () => Object.fromEntries((await enrollmentsByKey(service.api)).map((e) => [e.key, [e.active, e.source]]));
const apply = async (method: string, path: string, body: unknown) => {
  const job = await applyWrite(service.app, method, path, body);
  return { job, changes: await expectCountsMatchChanges(service.app, job) };
};

describe('commands set the source of what they make or find active (CONTRACT §2)', () => {
  it('a new enrollment gets the command’s source; one found active takes it, as unchanged and no change', async () => {
    await seedRoster(service.api, [{ email: 'a@x.edu', course: 'Math' }]);
    await apply('POST', '/admin/students', { name: 'Bo', email: 'bo@x.edu', course_name: 'Art', source: 'sis' });
    const found = await apply('POST', '/admin/enrollments', { email: 'a@x.edu', course_name: 'MATH', action: 'add', source: 'sis' });
    expect(found.job.counts).toMatchObject({ unchanged: 1 });
    expect(found.changes).toEqual([]);
    expect(await sources()).toEqual({ 'a@x.edu|math': [true, 'sis'], 'bo@x.edu|art': [true, 'sis'] });
  });

  it('a write by hand takes an enrollment over (source null); a feed takes over one it names; a deactivation keeps it', async () => {
    await seedRoster(service.api, [
      { email: 'a@x.edu', course: 'Math', source: 'sis' },
      { email: 'b@x.edu', course: 'Math', source: 'other' },
      { email: 'c@x.edu', course: 'Math', source: 'sis' },
    ]);
    const byHand = await apply('POST', '/admin/enrollments', { email: 'a@x.edu', course_name: 'Math', action: 'add' });
    expect(byHand.job.counts.unchanged).toBe(1);
    expect(byHand.changes).toEqual([]);
    await apply('POST', '/admin/enrollments', { email: 'b@x.edu', course_name: 'Math', action: 'add', source: 'sis' });
    const off = await apply('POST', '/admin/enrollments', { email: 'c@x.edu', course_name: 'Math', action: 'deactivate' });
    expect(off.changes.map((c) => c.kind)).toEqual(['enrollment_deactivated']);
    expect(await sources()).toEqual({ 'a@x.edu|math': [true, null], 'b@x.edu|math': [true, 'sis'], 'c@x.edu|math': [false, 'sis'] });
    // Made active again by hand: no source any more.
    const [c] = await service.api.orm.em.getConnection().execute<Array<{ id: number }>>(`select id::int from students where email = 'c@x.edu'`);
    await apply('PUT', `/admin/students/${c!.id}`, { course_name: 'Math' });
    expect((await sources())['c@x.edu|math']).toEqual([true, null]);
  });

  it('a source must be a key of 1-64 characters [a-z0-9._-]', async () => {
    for (const source of ['SIS', 'a b', '', 'x'.repeat(65)]) {
      expect((await send(service.app, 'POST', '/admin/enrollments', { email: 'a@x.edu', name: 'A', course_name: 'Math', source })).status, source).toBe(400);
      expect((await uploadCsv(service.app, 'email,course_name\na@x.edu,Math\n', { query: `source=${encodeURIComponent(source)}` })).status, source).toBe(400);
    }
  });
});

describe('imports set the source of the rows they apply (CONTRACT §2)', () => {
  it('?source= on what the rows make or find active; the rest keeps its own', async () => {
    await seedRoster(service.api, [
      { email: 'a@x.edu', course: 'Math', source: 'other' },
      { email: 'a@x.edu', course: 'Art', source: 'other' },
      { email: 'b@x.edu', course: 'Art' },
    ]);
    const job = await importCsv(service.app, 'name,email,course_name,action\n,a@x.edu,Math,add\nNew,new@x.edu,Art,add\n,b@x.edu,Art,deactivate\n', 'source=sis-nightly');
    expect(job.counts).toMatchObject({ unchanged: 1, students_created: 1, enrollments_created: 1, enrollments_deactivated: 1 });
    expect(job.options).toMatchObject({ source: 'sis-nightly' });
    await expectCountsMatchChanges(service.app, job);
    expect(await sources()).toEqual({
      'a@x.edu|art': [true, 'other'],
      'a@x.edu|math': [true, 'sis-nightly'],
      'b@x.edu|art': [false, null],
      'new@x.edu|art': [true, 'sis-nightly'],
    });
  });
});

describe('a sync with a source sweeps only that source’s enrollments (CONTRACT §7)', () => {
  beforeEach(() =>
    seedRoster(service.api, [
      { email: 'a@x.edu', course: 'Math', source: 'sis' },
      { email: 'b@x.edu', course: 'Math' }, // by hand
      { email: 'c@x.edu', course: 'Math', source: 'other' },
      { email: 'd@x.edu', course: 'Math', source: 'sis' },
      { email: 'e@x.edu', course: 'Art', source: 'sis' },
      { email: 'f@x.edu', course: 'Art', source: 'other' },
    ]),
  );

  it('never one made by hand or by another feed, in either scope', async () => {
    const job = await syncCsv(service.app, 'email,course_name\na@x.edu,Math\n', 'source=sis&max_deactivate_percent=100');
    expect(job).toMatchObject({ status: 'completed', counts: { enrollments_deactivated: 1 } });
    expect((await expectCountsMatchChanges(service.app, job)).map((c) => [c.email, c.line])).toEqual([['d@x.edu', null]]);
    const all = await syncCsv(service.app, 'email,course_name\na@x.edu,Math\n', 'source=sis&scope=all&max_deactivate_percent=100');
    expect((await expectCountsMatchChanges(service.app, all)).map((c) => c.email)).toEqual(['e@x.edu']);
    expect(await sources()).toEqual({
      'a@x.edu|math': [true, 'sis'],
      'b@x.edu|math': [true, null],
      'c@x.edu|math': [true, 'other'],
      'd@x.edu|math': [false, 'sis'],
      'e@x.edu|art': [false, 'sis'],
      'f@x.edu|art': [true, 'other'],
    });
  });

  it('its thresholds count the enrollments of its source in scope only', async () => {
    const held = await syncCsv(service.app, 'email,course_name\na@x.edu,Math\n', 'source=sis');
    expect(held).toMatchObject({ status: 'awaiting_approval', hold: { reason: 'max_deactivate_percent', deactivations: 1, active_in_scope: 2, percent: 50 } });
  });

  it('a row of the sync takes over the enrollment it names from another feed or a hand', async () => {
    const job = await syncCsv(service.app, 'email,course_name\na@x.edu,Math\nb@x.edu,Math\nc@x.edu,math\nd@x.edu,Math\n', 'source=sis');
    expect(job).toMatchObject({ status: 'completed', counts: { unchanged: 4, enrollments_deactivated: 0 } });
    expect(await expectCountsMatchChanges(service.app, job)).toEqual([]);
    expect(Object.entries(await sources()).filter(([k]) => k.endsWith('|math'))).toEqual(['a', 'b', 'c', 'd'].map((s) => [`${s}@x.edu|math`, [true, 'sis']]));
  });
});

describe('the read views show each enrollment’s source (CONTRACT §4)', () => {
  it('GET /students/{id} and GET /students', async () => {
    await apply('POST', '/admin/students', { name: 'Ana', email: 'ana@x.edu', course_name: 'Math', source: 'sis' });
    await apply('POST', '/admin/enrollments', { email: 'ana@x.edu', course_name: 'Art', action: 'add' });
    const [{ id }] = (await (await service.app.request('/api/v1/students?email=ana@x.edu', { headers: ADMIN })).json()).items;
    const one = await (await service.app.request(`/api/v1/students/${id}`, { headers: ADMIN })).json();
    expect(one.enrollments).toEqual([
      { course_id: expect.any(Number), course_name: 'Math', active: true, source: 'sis' },
      { course_id: expect.any(Number), course_name: 'Art', active: true, source: null },
    ]);
    const list = await (await service.app.request('/api/v1/students?email=ana@x.edu', { headers: ADMIN })).json();
    expect(list.items[0].enrollments).toEqual(one.enrollments);
  });
});
