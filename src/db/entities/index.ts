export * from './course.entity.js';
export * from './course-enrollment.entity.js';
export * from './student.entity.js';

import { CourseEnrollmentSchema } from './course-enrollment.entity.js';
import { CourseSchema } from './course.entity.js';
import { StudentSchema } from './student.entity.js';

/** Every entity the ORM knows; the schema itself is owned by the hand-written migrations. */
export const entities = [StudentSchema, CourseSchema, CourseEnrollmentSchema];
