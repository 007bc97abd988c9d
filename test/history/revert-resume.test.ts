import { beforeAll, describe, expect, it } from 'vitest';
import { truncateAll } from '../support/deps.js';
import { testConfig } from '../support/env.js';
import { expectCountsMatchChanges, expectRestored, requestRevert, rosterTables } from '../support/history.js';
import { seedRoster } from '../support/history-service.js';
import { uploadCsv } from '../support/imports.js';
import { getJob, jobFinished, waitForJob } from '../support/jobs.js';
import { exited, workerProcesses } from '../support/processes.js';

/**
 * CONTRACT §6 and §5: a revert is chunked and checkpointed like an import, so a worker process
 * killed with SIGKILL in the middle of one loses nothing: another worker resumes it and the
 * tables, counts and history are exactly those of one revert.
 */

const config = testConfig();
const procs = workerProcesses(config);
beforeAll(() => truncateAll(procs.api));

const MOVED = 5_000;
const ROWS = 30_000;
/** What the revert restores: each moved student's name, old and new enrollment; every other new enrollment. */
const ITEMS = 3 * MOVED + (ROWS - MOVED);

describe('a revert killed with SIGKILL mid-way (CONTRACT §6)', () => {
  it('is resumed by another worker: exact tables, counts and history', async () => {
    // 5,000 students from before, each in an "Old" course; the import renames and moves them (set)
    // and creates 25,000 more: 40,000 values for the revert to restore, in chunks of 10,000.
    await seedRoster(procs.api, Array.from({ length: MOVED }, (_, i) => ({ email: `student${i}@x.edu`, name: `Student ${i}`, course: `Old ${i % 10}` })));
    const before = await rosterTables(procs.api);
    const lines = ['name,email,course_name'];
    for (let i = 0; i < ROWS; i++) lines.push(`${i < MOVED ? 'Renamed' : 'Student'} ${i},student${i}@x.edu,New ${i % 10}`);

    const first = await procs.worker(1);
    const upload = await uploadCsv(procs.app, `${lines.join('\n')}\n`);
    expect(upload.status).toBe(202);
    const imported = await waitForJob(procs.app, upload.body.job_id, jobFinished, { timeoutMs: 120_000, everyMs: 200 });
    expect(imported).toMatchObject({
      status: 'completed',
      counts: { rows: ROWS, students_created: ROWS - MOVED, students_updated: MOVED, enrollments_created: ROWS, enrollments_deactivated: MOVED },
    });

    const res = await requestRevert(procs.app, imported.id);
    expect(res.status).toBe(202);
    const id = res.body.job_id as string;
    // Killed once a chunk has committed and before the last.
    await waitForJob(procs.app, id, (j) => j.progress.processed >= 10_000 || jobFinished(j), { timeoutMs: 60_000 });
    first.kill('SIGKILL');
    expect(await exited(first)).toBe('SIGKILL');
    const atKill = await getJob(procs.app, id);
    expect(atKill).toMatchObject({ status: 'running', progress: { total: ITEMS } });
    expect(atKill.progress.processed).toBeLessThan(atKill.progress.total!);

    const second = await procs.worker(1);
    const revert = await waitForJob(procs.app, id, jobFinished, { timeoutMs: 90_000, everyMs: 200 });
    expect(revert).toMatchObject({
      status: 'completed',
      progress: { processed: ITEMS, total: ITEMS },
      counts: { rows: ITEMS, valid: ITEMS, invalid: 0, students_created: 0, students_updated: MOVED, enrollments_created: 0, enrollments_activated: MOVED, enrollments_deactivated: ROWS, unchanged: 0 },
    });
    expect(expectRestored(before, await rosterTables(procs.api))).toEqual({ students: ROWS - MOVED, enrollments: ROWS });
    const changes = await expectCountsMatchChanges(procs.app, revert);
    expect(new Set(changes.map((c) => `${c.kind}:${c.student_id}:${c.course_id}`)).size).toBe(ITEMS);
    await expectCountsMatchChanges(procs.app, imported);

    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);
  }, 300_000);
});
