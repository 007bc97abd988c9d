import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import { createApp, type App } from '../src/http/app.js';
import { handOverOnce, startRelay } from '../src/jobs/relay.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { ADMIN, itRedis, testConfig } from './support/env.js';
import { cleanCsv, uploadCsv } from './support/imports.js';
import { send } from './support/jobs.js';
import { waitFor } from './support/wait.js';

/**
 * The hand-over of accepted jobs to BullMQ (a transactional outbox): the API commits, a relay
 * hands them over, one wake-up per queue naming all the jobs of a pass.
 */

let api: Deps;
let app: App;
beforeAll(async () => {
  api = await createTestDeps('api', testConfig());
  app = createApp(api);
});
afterAll(async () => {
  await obliterate();
  await api.close();
});
beforeEach(async () => {
  await truncateAll(api);
  await obliterate();
});

async function obliterate() {
  await api.queues.commands.obliterate({ force: true });
  await api.queues.imports.obliterate({ force: true });
}

const sql = <T = any>(q: string, params: unknown[] = []) => api.orm.em.getConnection().execute<T[]>(q, params);
const waiting = async () => ({
  commands: (await api.queues.commands.getJobCounts('wait')).wait,
  imports: (await api.queues.imports.getJobCounts('wait')).wait,
});
/** The job ids the waiting wake-ups of a queue name, in order. */
const wokenIds = async (queue: 'commands' | 'imports') =>
  (await api.queues[queue].getJobs(['wait'], 0, -1, true)).flatMap((job) => ('jobIds' in job.data ? job.data.jobIds : [job.data.jobId]));

async function acceptCommands(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await send(app, 'POST', '/admin/enrollments', { email: `r${i}@x.edu`, name: `R ${i}`, course_name: 'Art' });
    expect(res.status).toBe(202);
    ids.push(res.body.job_id);
  }
  return ids;
}

describe('the API only commits; a relay hands each job to BullMQ once', () => {
  it('jobs accepted while no worker runs wait in PostgreSQL, then reach BullMQ as one wake-up per queue naming them in order', async () => {
    const ids = await acceptCommands(5);
    const upload = await uploadCsv(app, cleanCsv(3));
    expect(upload.status).toBe(202);
    expect(await waiting()).toEqual({ commands: 0, imports: 0 });

    expect(await handOverOnce(api)).toBe(6);
    expect(await waiting()).toEqual({ commands: 1, imports: 1 });
    expect(await wokenIds('commands')).toEqual(ids);
    expect(await wokenIds('imports')).toEqual([upload.body.job_id]);
    expect(await sql(`select count(*)::int as n from jobs where enqueued_at is null`)).toEqual([{ n: 0 }]);

    expect(await handOverOnce(api)).toBe(0);
    expect(await waiting()).toEqual({ commands: 1, imports: 1 });
  });

  it('a job cancelled before its hand-over is marked but never given to BullMQ', async () => {
    const [id] = await acceptCommands(1);
    const cancel = await app.request(`/api/v1/jobs/${id}/cancel`, { method: 'POST', headers: ADMIN });
    expect(await cancel.json()).toMatchObject({ status: 'cancelled' });
    expect(await handOverOnce(api)).toBe(1);
    expect(await waiting()).toEqual({ commands: 0, imports: 0 });
  });

  it('relays running at once share the jobs: each is taken by exactly one', async () => {
    await acceptCommands(30);
    const taken = await Promise.all([handOverOnce(api, 10), handOverOnce(api, 10), handOverOnce(api, 10), handOverOnce(api, 10)]);
    expect(taken.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30);
    while ((await handOverOnce(api, 10)) > 0);
    const woken = await wokenIds('commands');
    expect(woken).toHaveLength(30);
    expect(new Set(woken).size).toBe(30);
    expect(await sql(`select count(*)::int as n from jobs where enqueued_at is null`)).toEqual([{ n: 0 }]);
  });

  // On the PostgreSQL backend the queues are in the jobs' own database: there is no other store to lose.
  itRedis('when BullMQ cannot be reached the hand-over rolls back, and a later one delivers', async () => {
    await acceptCommands(3);
    const noRedis = await createTestDeps('worker', testConfig({ REDIS_URL: 'redis://127.0.0.1:1' }));
    try {
      noRedis.queueBackend.redis!.disconnect(); // refuse at once instead of retrying
      await expect(handOverOnce(noRedis)).rejects.toThrow();
    } finally {
      await noRedis.close();
    }
    expect(await sql(`select count(*)::int as n from jobs where enqueued_at is null`)).toEqual([{ n: 3 }]);
    expect(await handOverOnce(api)).toBe(3);
    expect(await wokenIds('commands')).toHaveLength(3);
  });

  it('a running relay wakes on the commit itself, well before its 2-second safety net', async () => {
    // A job accepted before the relay starts: its hand-over is the relay's first pass (the catch-up
    // it makes once it listens), so a job accepted after that can only come with a wake-up.
    await acceptCommands(1);
    const relay = startRelay(api);
    try {
      await waitFor("the relay's first pass", async () => (await wokenIds('commands')).length === 1, { timeoutMs: 5_000, everyMs: 20 });
      const started = Date.now();
      await acceptCommands(1);
      await waitFor('the job to reach BullMQ', async () => (await wokenIds('commands')).length === 2, { timeoutMs: 5_000, everyMs: 20 });
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      await relay.close();
    }
  });
});
