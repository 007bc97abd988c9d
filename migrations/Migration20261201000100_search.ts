import { Migration } from '@mikro-orm/migrations';

/**
 * Student search (`GET /students?q=`, issue 17): a trigram GIN index on the name and the email,
 * which serves a case-insensitive part of either (`~*`) when the part has three letters or digits
 * in a row. It needs the pg_trgm extension (shipped with PostgreSQL, and trusted: a database
 * owner may create it). Where it cannot be created, the migration warns and goes on: the search
 * still answers, by reading the students in id order (src/students/student-search.ts).
 *
 * `create index` (not `concurrently`, which a migration's transaction cannot run) holds off
 * writes to students while it builds: about 30 s for a million students on the development VM.
 */
export class Migration20261201000100_search extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      do $$
      declare
        trgm_schema text;
      begin
        begin
          create extension if not exists pg_trgm;
        exception when others then
          raise warning 'student search: pg_trgm is not available (%); GET /students?q= will read students in id order instead of an index', sqlerrm;
        end;
        select n.nspname into trgm_schema
          from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm';
        if trgm_schema is not null then
          execute format('create index if not exists students_search_trgm_idx on students using gin (name %1$I.gin_trgm_ops, email %1$I.gin_trgm_ops)', trgm_schema);
        end if;
      end $$`);
  }

  override async down(): Promise<void> {
    // The extension stays: something else may use it.
    this.addSql('drop index if exists students_search_trgm_idx');
  }
}
