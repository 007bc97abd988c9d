import type { Orm } from '../db/orm.js';
import { CourseEnrollmentSchema, CourseSchema, StudentSchema } from '../db/entities.js';
import type { StudentRow } from './student-view.js';

/**
 * The small, rich reads of one student or course, through the ORM's entities: one `em.fork()`
 * per unit of work, so nothing is shared between requests. Pages of many students are set-based
 * SQL (student-read.repository.ts).
 */

/** One student with its enrollments (earliest-created first), or undefined when no student has that id. */
export async function findStudent(orm: Orm, id: number): Promise<StudentRow | undefined> {
  const em = orm.em.fork();
  const student = await em.findOne(StudentSchema, { id });
  if (!student) return undefined;
  const enrollments = await em.find(CourseEnrollmentSchema, { student: id }, { populate: ['course'], orderBy: { createdAt: 'asc', id: 'asc' } });
  return {
    id: student.id,
    name: student.name,
    email: student.email,
    enrollments: enrollments.map((e) => ({ course_id: e.course.id, course_name: e.course.name, active: e.active, source: e.source ?? null })),
  };
}

/** Whether a student with that id exists. */
export async function studentExists(orm: Orm, id: number): Promise<boolean> {
  return (await orm.em.fork().count(StudentSchema, { id })) > 0;
}

/** Whether a course with that id exists. */
export async function courseExists(orm: Orm, id: number): Promise<boolean> {
  return (await orm.em.fork().count(CourseSchema, { id })) > 0;
}
