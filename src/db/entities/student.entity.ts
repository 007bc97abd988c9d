import { defineEntity, type InferEntity } from '@mikro-orm/core';

/** A student. `email` is unique case-insensitively (index on lower(email), see the migrations). */
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

export type Student = InferEntity<typeof StudentSchema>;
