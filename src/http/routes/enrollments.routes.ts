import { Hono } from 'hono';
import type { Deps } from '../../process/deps.js';
import { acceptCommandJob } from '../../commands/command-accept.service.js';
import { batchBody, enrollmentBody, toCommand } from '../../commands/command.schemas.js';
import type { AppEnv } from '../context.js';
import { idempotencyOf, readJsonBody, sendAccepted } from '../write-request.js';

/** `POST /admin/enrollments` (one action) and `POST /admin/enrollments/batch` (up to 10,000, in order). */
export function enrollmentRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .post('/admin/enrollments', async (c) => {
      const body = await readJsonBody(c, enrollmentBody);
      const payload = { commands: [toCommand(body)] };
      return sendAccepted(c, await acceptCommandJob(deps, { type: 'command', payload, total: 1 }, idempotencyOf(c, body)));
    })
    .post('/admin/enrollments/batch', async (c) => {
      const body = await readJsonBody(c, batchBody);
      const payload = { commands: body.commands.map(toCommand) };
      const total = payload.commands.length;
      return sendAccepted(c, await acceptCommandJob(deps, { type: 'batch', payload, total }, idempotencyOf(c, body)));
    });
}
