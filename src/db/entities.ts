import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * The ORM's view of the enrollment tables, for the small, rich reads (one student with its
 * enrollments, whether a student or a course exists). The schema itself is owned by the
 * hand-written migrations; bulk paths use set-based SQL, never these.
 */

/** A course. `name` is unique case-insensitively (index on lower(name)). */
export const CourseSchema = defineEntity({
  name: 'Course',
  tableName: 'courses',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    name: p.string().columnType('text'),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  }),
});

/** A student. `email` is unique case-insensitively (index on lower(email)). */
export const StudentSchema = defineEntity({
  name: 'Student',
  tableName: 'students',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    name: p.string().columnType('text'),
    email: p.string().columnType('text'),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});

/** The only record of which student is in which course; never deleted, only deactivated. */
export const CourseEnrollmentSchema = defineEntity({
  name: 'CourseEnrollment',
  tableName: 'course_enrollments',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    course: p.manyToOne(CourseSchema).fieldName('course_id'),
    student: p.manyToOne(StudentSchema).fieldName('student_id'),
    active: p.boolean().default(true),
    source: p.string().columnType('text').nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});

export type Course = InferEntity<typeof CourseSchema>;
export type Student = InferEntity<typeof StudentSchema>;
export type CourseEnrollment = InferEntity<typeof CourseEnrollmentSchema>;

/** Every entity the ORM knows. */
export const entities = [StudentSchema, CourseSchema, CourseEnrollmentSchema];
