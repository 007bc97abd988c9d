import { Hono } from 'hono';
import type { Deps } from '../../process/deps.js';
import type { EnrollmentCommand } from '../../domain/enrollment.js';
import { AppError } from '../errors.js';
import { acceptCommandJob } from '../../commands/command-accept.service.js';
import { createStudentBody, updateStudentBody } from '../../commands/command.schemas.js';
import type { AppEnv } from '../context.js';
import { parseParams } from '../pagination.js';
import { studentExists } from '../../students/student.repository.js';
import { studentIdParams } from './students.routes.js';
import { idempotencyOf, readJsonBody, sendAccepted } from '../write-request.js';

/** `POST /admin/students` (create and `set` the course) and `PUT /admin/students/{id}`. */
export function adminStudentRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .post('/admin/students', async (c) => {
      const body = await readJsonBody(c, createStudentBody);
      const command: EnrollmentCommand = { student: { email: body.email }, name: body.name, courseName: body.course_name, action: 'set' };
      if (body.source !== undefined) command.source = body.source;
      return sendAccepted(c, await acceptCommandJob(deps, { type: 'command', payload: { commands: [command] }, total: 1 }, idempotencyOf(c, body)));
    })
    .put('/admin/students/:id', async (c) => {
      const { id } = parseParams(studentIdParams, c.req.param());
      const body = await readJsonBody(c, updateStudentBody);
      if (!(await studentExists(deps.orm, id))) throw new AppError('not_found', `no student ${id}`);
      const command: EnrollmentCommand = { student: { id }, action: 'set' };
      if (body.name !== undefined) command.name = body.name;
      if (body.email !== undefined) command.newEmail = body.email;
      if (body.course_name !== undefined) command.courseName = body.course_name;
      if (body.source !== undefined) command.source = body.source;
      return sendAccepted(c, await acceptCommandJob(deps, { type: 'command', payload: { commands: [command] }, total: 1 }, idempotencyOf(c, body)));
    });
}
