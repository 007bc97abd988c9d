import { defineEntity, type InferEntity } from '@mikro-orm/core';

/** A course. `name` is unique case-insensitively (index on lower(name), see the migrations). */
export const CourseSchema = defineEntity({
  name: 'Course',
  tableName: 'courses',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    name: p.string().columnType('text'),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  }),
});

export type Course = InferEntity<typeof CourseSchema>;
