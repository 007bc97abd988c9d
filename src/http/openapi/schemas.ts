import { z } from 'zod';
import type { Counts } from '../../domain/counts.js';
import { errorStatus } from '../errors.js';
import { CHANGE_KINDS } from '../../history/change.model.js';
import { JOB_STATUSES, JOB_TYPES } from '../../jobs/job.model.js';
import type { JobView } from '../../jobs/job-view.js';
import type { StudentView } from '../../students/student-view.js';
import type { CourseView } from '../../courses/course.repository.js';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../../jobs/idempotency.js';

/**
 * zod schemas of what the API answers, for the OpenAPI document only (the request schemas are the
 * ones that validate requests, imported from the routes). `.meta({ id })` names a component; the
 * `Same` checks at the bottom make a drift from the TypeScript types a compile error.
 */

const isoDate = z.string().meta({ format: 'date-time' });

export const countsSchema = z
  .object({
    rows: z.number().int(),
    valid: z.number().int(),
    invalid: z.number().int(),
    students_created: z.number().int(),
    students_updated: z.number().int(),
    enrollments_created: z.number().int(),
    enrollments_activated: z.number().int(),
    enrollments_deactivated: z.number().int(),
    unchanged: z.number().int(),
  })
  .meta({ id: 'Counts', description: 'What a job did so far; a single action counts as one row.' });

const importOptionsSchema = z
  .object({
    mode: z.enum(['set', 'add', 'sync']),
    dry_run: z.boolean(),
    source: z.string().nullable().optional(),
    scope: z.enum(['courses', 'all']).optional(),
    max_deactivate_percent: z.number().optional(),
    max_deactivate: z.number().int().nullable().optional(),
    max_invalid_percent: z.number().optional(),
  })
  .meta({ id: 'ImportOptions' });

const revertOptionsSchema = z.object({ dry_run: z.boolean(), force: z.boolean() }).meta({ id: 'RevertOptions' });

export const holdSchema = z
  .object({
    reason: z.enum(['max_deactivate_percent', 'max_deactivate', 'max_invalid_percent']),
    deactivations: z.number().int(),
    active_in_scope: z.number().int(),
    percent: z.number().meta({ description: 'The percentage compared with `threshold`: of the deactivations, or of the invalid rows.' }),
    threshold: z.number(),
    rows: z.number().int(),
    invalid: z.number().int(),
  })
  .meta({ id: 'Hold', description: 'Why a roster sync awaits approval (CONTRACT §7).' });

export const jobViewSchema = z
  .object({
    id: z.string().meta({ format: 'uuid' }),
    type: z.enum(JOB_TYPES),
    status: z.enum(JOB_STATUSES),
    progress: z.object({
      processed: z.number().int(),
      total: z.number().int().nullable().meta({ description: 'null until known (imports count their rows first)' }),
      percent: z.number().nullable(),
    }),
    counts: countsSchema,
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    result: z
      .object({ student_id: z.number().int().nullable(), course_id: z.number().int().nullable(), enrollment_id: z.number().int().nullable() })
      .optional()
      .meta({ description: 'Only on a completed single action.' }),
    warnings: z.array(z.string()).optional().meta({ description: 'File-level warnings of an import (e.g. ignored columns).' }),
    options: z
      .union([importOptionsSchema, revertOptionsSchema])
      .optional()
      .meta({ description: "Only on an import or a revert: the options it was accepted with (a dry run's counts are what it would have changed)." }),
    file_name: z.string().nullable().optional().meta({ description: 'Only on an import: the file name it was uploaded with, if any.' }),
    reverts: z.string().meta({ format: 'uuid' }).optional().meta({ description: 'Only on a revert: the job it undoes.' }),
    reverted_by: z.string().meta({ format: 'uuid' }).optional().meta({ description: 'On a job that was reverted: its revert.' }),
    hold: holdSchema.optional().meta({ description: 'On a sync held for approval: why, and its figures.' }),
    phase: z.enum(['staging', 'planning', 'applying', 'sweeping']).optional().meta({ description: 'What a running import or revert is doing; `progress` counts the rows applied.' }),
    created_at: isoDate,
    started_at: isoDate.nullable(),
    finished_at: isoDate.nullable(),
  })
  .meta({ id: 'Job', description: 'A job as GET /api/v1/jobs/{id} shows it.' });

export const jobErrorSchema = z
  .object({
    line: z.number().int().nullable().meta({ description: 'File line of an import (the header is line 1), or the 1-based command of a batch.' }),
    column: z.string().nullable(),
    code: z.string(),
    message: z.string(),
    value: z.string().nullable(),
  })
  .meta({ id: 'JobRowError' });

export const jobErrorPageSchema = z
  .object({ items: z.array(jobErrorSchema), next_cursor: z.string().nullable() })
  .meta({ id: 'JobRowErrorPage' });

export const jobPageSchema = z
  .object({ items: z.array(jobViewSchema), next_cursor: z.string().nullable().meta({ description: 'null on the last page' }) })
  .meta({ id: 'JobPage' });

const changeFields = {
  kind: z.enum(CHANGE_KINDS),
  student_id: z.number().int().nullable().meta({ description: 'null for a student a preview would create' }),
  email: z.string().nullable(),
  course_id: z.number().int().nullable().meta({ description: 'null for a student change, or a course a preview would create' }),
  course_name: z.string().nullable(),
  before: z.union([z.string(), z.boolean()]).nullable().meta({ description: 'A name (an email for `student_email_changed`), or `active` for an enrollment; null for a creation.' }),
  after: z.union([z.string(), z.boolean()]).nullable(),
  line: z.number().int().nullable().meta({ description: 'The file line or the command position that caused it; null for a sync\'s sweep or a revert.' }),
};

export const changeSchema = z
  .object({ seq: z.number().int().meta({ description: 'Position in the job\'s list (1, 2, …).' }), ...changeFields })
  .meta({ id: 'Change', description: 'One change a job made (or, for a dry run or a held sync, would make).' });

export const changePageSchema = z
  .object({ items: z.array(changeSchema), next_cursor: z.string().nullable().meta({ description: 'null on the last page' }) })
  .meta({ id: 'ChangePage' });

export const historyItemSchema = z
  .object({ ...changeFields, job_id: z.string().meta({ format: 'uuid' }), job_type: z.enum(JOB_TYPES), at: isoDate })
  .meta({ id: 'HistoryItem', description: 'One change to a student or its enrollments, with the job that made it.' });

export const historyPageSchema = z
  .object({ items: z.array(historyItemSchema), next_cursor: z.string().nullable().meta({ description: 'null on the last page' }) })
  .meta({ id: 'HistoryPage' });

export const studentSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    email: z.string(),
    course_id: z.number().int().nullable().meta({ description: 'The active enrollment (the earliest-created if several); null if none.' }),
    course_name: z.string().nullable(),
    enrollments: z.array(
      z.object({
        course_id: z.number().int(),
        course_name: z.string(),
        active: z.boolean(),
        source: z.string().nullable().meta({ description: 'The feed of the last write that made it active or found it active; null for a write by hand.' }),
      }),
    ),
    team_id: z.null(),
    team_name: z.null(),
    team_number: z.null(),
  })
  .meta({ id: 'Student', description: 'Team fields are always null (kept for compatibility).' });

export const studentPageSchema = z
  .object({ items: z.array(studentSchema), next_cursor: z.string().nullable().meta({ description: 'null on the last page' }) })
  .meta({ id: 'StudentPage' });

export const courseSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    created_at: isoDate,
    size: z.object({ active: z.number().int(), inactive: z.number().int() }).meta({ description: 'Its enrollments: active ones (the roster) and inactive ones.' }),
  })
  .meta({ id: 'Course' });

export const coursePageSchema = z
  .object({ items: z.array(courseSchema), next_cursor: z.string().nullable().meta({ description: 'null on the last page' }) })
  .meta({ id: 'CoursePage' });

export const acceptedSchema = z
  .object({ job_id: z.string().meta({ format: 'uuid' }), status_url: z.string().meta({ example: '/api/v1/jobs/6f1c2d3e-…' }) })
  .meta({ id: 'Accepted', description: 'A write was stored durably and queued as a job.' });

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(errorStatus) as [keyof typeof errorStatus, ...Array<keyof typeof errorStatus>]),
      message: z.string(),
      details: z.unknown().optional().meta({ description: 'For `invalid`: a list of `{field, message}`.' }),
    }),
  })
  .meta({ id: 'Error', description: 'Every error answer; never an HTML page or a stack trace.' });

/** The `Idempotency-Key` header of every write. */
export const idempotencyHeaders = z.object({
  'Idempotency-Key': z
    .string()
    .min(1)
    .max(MAX_IDEMPOTENCY_KEY_LENGTH)
    .optional()
    .meta({
      description:
        'Kept at least 24 hours: the same key with the same request gets the first answer again (same status and body, no new job); ' +
        'with a different request, 422; while the first is still being accepted, 409.',
    }),
});

// Compile-time checks that the documented shapes are the served ones.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameJob: Same<z.infer<typeof jobViewSchema>, JobView> = true;
const sameCounts: Same<z.infer<typeof countsSchema>, Counts> = true;
const sameStudent: Same<z.infer<typeof studentSchema>, StudentView> = true;
const sameCourse: Same<z.infer<typeof courseSchema>, CourseView> = true;
void [sameJob, sameCounts, sameStudent, sameCourse];
