import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import { createApp, type App } from '../src/http/app.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { send } from './support/jobs.js';

// No workers here: idempotency is decided when a request is accepted.
let deps: Deps;
let app: App;
beforeAll(async () => {
  deps = await createTestDeps();
  app = createApp(deps);
});
afterAll(async () => {
  await deps.queues.commands.obliterate({ force: true });
  await deps.close();
});
beforeEach(() => truncateAll(deps));

const jobCount = async () => Number((await deps.orm.em.getConnection().execute('select count(*) as n from jobs'))[0]!.n);
const body = { email: 'a@x.edu', name: 'A', course_name: 'Art' };

describe('Idempotency-Key (CONTRACT §4)', () => {
  it('the same key with the same request gets the first answer again and no new job', async () => {
    const first = await send(app, 'POST', '/admin/enrollments', body, { 'Idempotency-Key': 'k-1' });
    const again = await send(app, 'POST', '/admin/enrollments', body, { 'Idempotency-Key': 'k-1' });
    expect(first.status).toBe(202);
    expect(again).toEqual(first);
    expect(await jobCount()).toBe(1);
  });

  it('the same key with a different request is 422', async () => {
    await send(app, 'POST', '/admin/enrollments', body, { 'Idempotency-Key': 'k-2' });
    const other = await send(app, 'POST', '/admin/enrollments', { ...body, course_name: 'Biology' }, { 'Idempotency-Key': 'k-2' });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('unprocessable');
    const otherPath = await send(app, 'POST', '/admin/students', body, { 'Idempotency-Key': 'k-2' });
    expect(otherPath.status).toBe(422);
    expect(await jobCount()).toBe(1);
  });

  it('20 concurrent repeats make one job: each gets its answer, or 409 while it is being accepted', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => send(app, 'POST', '/admin/enrollments/batch', { commands: [body] }, { 'Idempotency-Key': 'k-3' })),
    );
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted.length).toBeGreaterThan(0);
    expect(new Set(accepted.map((a) => a.body.job_id)).size).toBe(1);
    for (const a of answers.filter((a) => a.status !== 202)) expect(a).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(await jobCount()).toBe(1);
    const later = await send(app, 'POST', '/admin/enrollments/batch', { commands: [body] }, { 'Idempotency-Key': 'k-3' });
    expect(later).toEqual(accepted[0]);
  });

  it('a repeat while the first is still being accepted is 409', async () => {
    // A key row without an answer is what an acceptance in progress looks like (e.g. a long upload).
    await deps.orm.em.getConnection().execute(`insert into idempotency_keys (key, fingerprint) values ('k-4', 'pending')`);
    const res = await send(app, 'POST', '/admin/enrollments', body, { 'Idempotency-Key': 'k-4' });
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(await jobCount()).toBe(0);
  });

  it('a key over 255 characters is a 400', async () => {
    const res = await send(app, 'POST', '/admin/enrollments', body, { 'Idempotency-Key': 'k'.repeat(256) });
    expect(res.status).toBe(400);
    expect(await jobCount()).toBe(0);
  });
});
