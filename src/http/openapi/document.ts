import { OpenApiGeneratorV31, OpenAPIRegistry, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { batchBody, createStudentBody, enrollmentBody, updateStudentBody } from '../../commands/command.schemas.js';
import { courseIdParams, courseListQuery, rosterQuery } from '../routes/courses.routes.js';
import { changesQuery, historyQuery } from '../routes/history.routes.js';
import { revertQuery } from '../routes/job-actions.routes.js';
import { importQuery } from '../routes/imports.routes.js';
import { errorsQuery, jobListQuery } from '../routes/jobs.routes.js';
import { studentIdParams, studentListQuery } from '../routes/students.routes.js';
import {
  acceptedSchema,
  changePageSchema,
  coursePageSchema,
  courseSchema,
  errorSchema,
  historyPageSchema,
  idempotencyHeaders,
  jobErrorPageSchema,
  jobPageSchema,
  jobViewSchema,
  studentPageSchema,
  studentSchema,
} from './schemas.js';

const API = '/api/v1';
const ERRORS = {
  400: 'Invalid: a bad field, parameter or body (`details` lists `{field, message}`).',
  401: 'No token or an unknown token.',
  403: 'The read token on a write.',
  404: 'Not found.',
  409: 'Conflict: the Idempotency-Key is still being accepted, or the job has already finished.',
  413: 'The upload is larger than MAX_UPLOAD_BYTES.',
  422: 'The Idempotency-Key was used with a different request.',
  500: 'Internal error (logged with the request id).',
} as const;
type ErrorStatus = keyof typeof ERRORS;

const json = (schema: z.ZodType, description: string): ResponseConfig => ({ description, content: { 'application/json': { schema } } });
/** Error answers (the `Error` envelope) for these statuses. */
const errorRefs = (...statuses: ErrorStatus[]) => Object.fromEntries(statuses.map((s) => [s, json(errorSchema, ERRORS[s])]));
const jobId = z.object({ id: z.string().meta({ format: 'uuid' }) });
const accepted = { 202: json(acceptedSchema, 'Accepted: poll `status_url`.') };
type Security = Array<Record<string, string[]>>;
const WRITE = { security: [{ adminToken: [] }] as Security, request: { headers: idempotencyHeaders } };
const READ = { security: [{ readToken: [] }, { adminToken: [] }] as Security };
const writeErrors = errorRefs(400, 401, 403, 409, 422, 500);
const readErrors = errorRefs(400, 401, 500);

/** Every route of CONTRACT §4 (paths as served), with the zod schemas that validate its input. */
const routes: RouteConfig[] = [
  // Writes
  { ...WRITE, method: 'post', path: `${API}/admin/students`, tags: ['writes'], summary: 'Create a student and set the course (team fields accepted and ignored)',
    request: { ...WRITE.request, body: { required: true, content: { 'application/json': { schema: createStudentBody } } } },
    responses: { ...accepted, ...writeErrors } },
  { ...WRITE, method: 'put', path: `${API}/admin/students/{id}`, tags: ['writes'], summary: 'Update a student; a course_name is a set',
    request: { ...WRITE.request, params: studentIdParams, body: { required: true, content: { 'application/json': { schema: updateStudentBody } } } },
    responses: { ...accepted, ...writeErrors, ...errorRefs(404) } },
  { ...WRITE, method: 'post', path: `${API}/admin/enrollments`, tags: ['writes'], summary: 'One enrollment action (set, add or deactivate)',
    description: 'Give exactly one of `email` or `student_id`. `action` matches case-insensitively.',
    request: { ...WRITE.request, body: { required: true, content: { 'application/json': { schema: enrollmentBody } } } },
    responses: { ...accepted, ...writeErrors } },
  { ...WRITE, method: 'post', path: `${API}/admin/enrollments/batch`, tags: ['writes'], summary: 'Up to 10,000 actions, applied in order, as one job',
    request: { ...WRITE.request, body: { required: true, content: { 'application/json': { schema: batchBody } } } },
    responses: { ...accepted, ...writeErrors } },
  { ...WRITE, method: 'post', path: `${API}/admin/imports`, tags: ['writes'], summary: 'Import a CSV roster',
    description: 'The CSV itself as the body, or a multipart field named `file`. Stored durably before the 202. Format: CONTRACT §3.',
    request: {
      ...WRITE.request,
      query: importQuery,
      body: {
        required: true,
        content: {
          'text/csv': { schema: { type: 'string', example: 'email,name,course_name\nada@uni.edu,Ada Lovelace,Mathematics 101\n' } },
          'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', contentMediaType: 'text/csv' } }, required: ['file'] } },
        },
      },
    },
    responses: { ...accepted, ...writeErrors, ...errorRefs(413) } },
  // Jobs
  { ...READ, method: 'get', path: `${API}/jobs`, tags: ['jobs'], summary: 'Recent jobs, newest first',
    description: 'Optionally of one `type` or `status`; paginated with `cursor` / `next_cursor`.',
    request: { query: jobListQuery }, responses: { 200: json(jobPageSchema, 'A page of jobs.'), ...readErrors } },
  { ...READ, method: 'get', path: `${API}/jobs/{id}`, tags: ['jobs'], summary: 'A job: status, progress, counts',
    request: { params: jobId }, responses: { 200: json(jobViewSchema, 'The job.'), ...readErrors, ...errorRefs(404) } },
  { ...READ, method: 'get', path: `${API}/jobs/{id}/errors`, tags: ['jobs'], summary: "A job's row errors, with their line numbers",
    description: 'With `Accept: text/csv` or `format=csv`, the whole list as a CSV download (`line,column,code,message,value`).',
    request: { params: jobId, query: errorsQuery },
    responses: {
      200: { description: 'A page of errors, or the whole list as CSV.', content: { 'application/json': { schema: jobErrorPageSchema }, 'text/csv': { schema: { type: 'string' } } } },
      ...readErrors, ...errorRefs(404),
    } },
  { ...READ, method: 'get', path: `${API}/jobs/{id}/events`, tags: ['jobs'], summary: 'A job as Server-Sent Events, until it finishes',
    description:
      'Event `progress`: the job (as `GET /jobs/{id}`) at once, whenever it changes and at least once a second while it runs; comment lines keep a queued job\'s stream open; ' +
      'the last event is `done` with the finished job, then the stream closes (`error` with an `Error` envelope if the job cannot be read).',
    request: { params: jobId },
    responses: { 200: { description: 'The event stream; each `data` is a `Job`.', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...readErrors, ...errorRefs(404) } },
  { security: WRITE.security, method: 'post', path: `${API}/jobs/{id}/cancel`, tags: ['jobs'], summary: 'Cancel a queued or running job',
    description: 'A running job stops between batches; what it already applied stays applied and is counted.',
    request: { params: jobId }, responses: { 202: json(jobViewSchema, 'The job after the request.'), ...errorRefs(401, 403, 404, 409, 500) } },
  { ...WRITE, method: 'post', path: `${API}/jobs/{id}/revert`, tags: ['history'], summary: 'Undo every change a finished job made, as a new job of type revert',
    description:
      'A change a later job changed again is a conflict: left as it is and reported as a row error `changed_since` naming that job, unless `force=true`. ' +
      'A job is reverted once (409 afterwards, unless that revert was reverted); a queued, running or held job, a dry run, and a sync that applied nothing get 409.',
    request: { ...WRITE.request, params: jobId, query: revertQuery },
    responses: { ...accepted, ...writeErrors, ...errorRefs(404) } },
  { ...WRITE, method: 'post', path: `${API}/jobs/{id}/approve`, tags: ['jobs'], summary: 'Approve a roster sync awaiting approval',
    description: 'It is applied to the roster as it is then, its thresholds lifted, unless it would now deactivate more than its hold showed: then it holds again.',
    request: { ...WRITE.request, params: jobId },
    responses: { ...accepted, ...writeErrors, ...errorRefs(404) } },
  { security: WRITE.security, method: 'post', path: `${API}/jobs/{id}/reject`, tags: ['jobs'], summary: 'Reject a roster sync awaiting approval: nothing is applied',
    request: { params: jobId }, responses: { 202: json(jobViewSchema, 'The job, rejected.'), ...errorRefs(401, 403, 404, 409, 500) } },
  // History
  { ...READ, method: 'get', path: `${API}/jobs/{id}/changes`, tags: ['history'], summary: "A job's changes, in the order it made them",
    description:
      'Filter by `kind` and `course_id`. With `Accept: text/csv` or `format=csv`, the whole list as a CSV download (formula-safe). ' +
      "A dry run's list, and a sync awaiting approval's, is what the job would change.",
    request: { params: jobId, query: changesQuery },
    responses: {
      200: { description: 'A page of changes, or the whole list as CSV.', content: { 'application/json': { schema: changePageSchema }, 'text/csv': { schema: { type: 'string' } } } },
      ...readErrors, ...errorRefs(404),
    } },
  { ...READ, method: 'get', path: `${API}/students/{id}/history`, tags: ['history'], summary: "A student's history, newest first",
    description: 'Every change to the student and its enrollments whose job is still kept (JOB_RETENTION_HOURS), each with its job.',
    request: { params: studentIdParams, query: historyQuery },
    responses: { 200: json(historyPageSchema, 'A page of changes.'), ...readErrors, ...errorRefs(404) } },
  // Reads
  { ...READ, method: 'get', path: `${API}/students`, tags: ['reads'], summary: 'Students, filtered, by cursor pages',
    description:
      'An empty parameter means absent. With `course_name`, `active` is about that enrollment; without, about any. ' +
      '`q` searches a part of the name or email, combined with the other filters; with fewer than three letters or digits in a row, ' +
      'a page may be short or empty and still carry a `next_cursor` (the search reads a bounded part of the students per page).',
    request: { query: studentListQuery }, responses: { 200: json(studentPageSchema, 'A page of students in id order.'), ...readErrors } },
  { ...READ, method: 'get', path: `${API}/students/{id}`, tags: ['reads'], summary: 'One student',
    request: { params: studentIdParams }, responses: { 200: json(studentSchema, 'The student.'), ...readErrors, ...errorRefs(404) } },
  { ...READ, method: 'get', path: `${API}/students/teams`, tags: ['reads'], summary: 'Removed: always 404', deprecated: true,
    responses: errorRefs(401, 404) },
  { ...READ, method: 'get', path: `${API}/courses`, tags: ['reads'], summary: 'Courses, found by a part of their name, by cursor pages',
    description: 'Beyond the contract (issue 17): each course with its size. An empty `q` means absent (every course).',
    request: { query: courseListQuery }, responses: { 200: json(coursePageSchema, 'A page of courses in id order.'), ...readErrors } },
  { ...READ, method: 'get', path: `${API}/courses/{id}`, tags: ['reads'], summary: 'One course, with its size',
    request: { params: courseIdParams }, responses: { 200: json(courseSchema, 'The course.'), ...readErrors, ...errorRefs(404) } },
  { ...READ, method: 'get', path: `${API}/courses/{id}/students`, tags: ['reads'], summary: "A course's roster, by cursor pages",
    request: { params: courseIdParams, query: rosterQuery }, responses: { 200: json(studentPageSchema, 'A page of students in id order.'), ...readErrors, ...errorRefs(404) } },
  { ...READ, method: 'get', path: `${API}/admin/students/export.csv`, tags: ['reads'], summary: 'Every student as CSV, streamed',
    description: 'Columns `id,name,email,course_name,active,team_id,team_name,team_number`; a cell starting with `=`, `+`, `-`, `@`, a tab or CR gets a leading `\'`.',
    responses: { 200: { description: 'The CSV (RFC 4180, CRLF).', content: { 'text/csv': { schema: { type: 'string' } } } }, ...errorRefs(401, 500) } },
  // Operations (no token)
  { security: [], method: 'get', path: '/healthz', tags: ['operations'], summary: 'The process answers',
    responses: { 200: json(z.object({ status: z.literal('ok') }), 'Up.') } },
  { security: [], method: 'get', path: '/readyz', tags: ['operations'], summary: 'PostgreSQL and Redis answer within 2 s',
    responses: {
      200: json(z.object({ status: z.string(), checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })) }), 'Ready.'),
      503: { description: 'Not ready; `checks` names what does not answer.' },
    } },
  { security: [], method: 'get', path: '/metrics', tags: ['operations'], summary: 'Prometheus metrics',
    responses: { 200: { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } } } },
];

/** Builds the OpenAPI 3.1 document of the service. */
export function buildOpenApiDocument(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  const bearer = (who: string) => ({ type: 'http' as const, scheme: 'bearer', description: `${who} (\`Authorization: Bearer <token>\`).` });
  registry.registerComponent('securitySchemes', 'adminToken', bearer('ADMIN_TOKEN: may do everything'));
  registry.registerComponent('securitySchemes', 'readToken', bearer('READ_TOKEN: may only read (GET)'));
  for (const route of routes) registry.registerPath(route);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Enrollment service',
      version: '1',
      description: 'Which student is in which course. Writes are accepted as jobs (202) and applied by workers; poll the job.',
    },
    servers: [{ url: '/' }],
    security: [{ adminToken: [] }, { readToken: [] }],
    tags: [
      { name: 'writes', description: 'Admin token only. Every write accepts an `Idempotency-Key`.' },
      { name: 'jobs', description: 'Job status, row errors, cancel.' },
      { name: 'history', description: 'What each job changed, and each student\'s history (CONTRACT §6).' },
      { name: 'reads', description: 'Both tokens may read.' },
      { name: 'operations', description: 'No token.' },
    ],
  });
}
