import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { CourseSchema } from './course.entity.js';
import { StudentSchema } from './student.entity.js';

/** The only record of which student is in which course; never deleted, only deactivated. */
export const CourseEnrollmentSchema = defineEntity({
  name: 'CourseEnrollment',
  tableName: 'course_enrollments',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    course: p.manyToOne(CourseSchema).fieldName('course_id'),
    student: p.manyToOne(StudentSchema).fieldName('student_id'),
    active: p.boolean().default(true),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});

export type CourseEnrollment = InferEntity<typeof CourseEnrollmentSchema>;
