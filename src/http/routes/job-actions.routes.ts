import { Hono } from 'hono';
import { z } from 'zod';
import { acceptRevert } from '../../history/revert-accept.service.js';
import { approveSync, rejectSync } from '../../imports/import-approval.service.js';
import { fingerprintOf } from '../../jobs/idempotency.js';
import { isJobId } from '../../jobs/job.model.js';
import { findJob } from '../../jobs/job.repository.js';
import type { Deps } from '../../process/deps.js';
import type { AppEnv } from '../context.js';
import { AppError } from '../errors.js';
import { parseQuery } from '../pagination.js';
import { idempotencyKeyOf, sendAccepted } from '../write-request.js';
import { logJobId } from './jobs.routes.js';

const flag = z.enum(['true', 'false', '1', '0']).default('false').transform((v) => v === 'true' || v === '1');

export const revertQuery = z.object({
  dry_run: flag.meta({ description: 'Report what the revert would do, change nothing.' }),
  force: flag.meta({ description: 'Restore values a later job changed again too (by default: conflicts, left as they are).' }),
});

/**
 * The operator's actions on a finished or held job: `POST /jobs/{id}/revert` (CONTRACT §6),
 * `POST /jobs/{id}/approve` and `POST /jobs/{id}/reject` (a held roster sync, §7). Admin writes;
 * revert and approve take an Idempotency-Key.
 */
export function jobActionRoutes(deps: Pick<Deps, 'orm' | 'queues' | 'metrics'>) {
  const jobId = (id: string) => {
    if (!isJobId(id)) throw new AppError('not_found', `no job ${id}`);
    return id.toLowerCase();
  };
  return new Hono<AppEnv>()
    .post('/jobs/:id/revert', logJobId, async (c) => {
      const id = jobId(c.req.param('id'));
      const q = parseQuery(revertQuery, Object.fromEntries(Object.entries(c.req.query()).map(([k, v]) => [k, v.trim().toLowerCase()])));
      const key = idempotencyKeyOf(c);
      const idempotency = key === null ? null : { key, fingerprint: fingerprintOf('POST', c.req.path, { id, ...q }) };
      return sendAccepted(c, await acceptRevert(deps, id, { dryRun: q.dry_run, force: q.force }, idempotency));
    })
    .post('/jobs/:id/approve', logJobId, async (c) => {
      const id = jobId(c.req.param('id'));
      const key = idempotencyKeyOf(c);
      const idempotency = key === null ? null : { key, fingerprint: fingerprintOf('POST', c.req.path, { id }) };
      return sendAccepted(c, await approveSync(deps, id, idempotency));
    })
    .post('/jobs/:id/reject', logJobId, async (c) => {
      const id = jobId(c.req.param('id'));
      await rejectSync(deps, id);
      return c.json(await findJob(deps.orm, id), 202);
    });
}
