import { Migration } from '@mikro-orm/migrations';

/**
 * History and revert (CONTRACT §6), sources (§2) and roster sync with approval holds (§7).
 *
 * - Every change is recorded with the job that made it. Creations, which dominate a fresh load,
 *   are recorded on the row itself (`created_by`: the job's `seq`, `created_line`): a million new
 *   enrollments cost two columns, not a million copied rows. Every other change (renames, email
 *   changes, activations, deactivations) is a row of `changes`, in the order it was made (`seq`).
 *   A job's previews (a dry run, a sync awaiting approval) are `planned_changes`.
 * - `course_enrollments.source`: the feed (or none) of the last write that made it active or found
 *   it active; a sync with a source sweeps only its own enrollments.
 * - Jobs get the `revert` type, the `awaiting_approval` and `rejected` statuses, the job a revert
 *   undoes (`reverts`), a held sync's figures (`hold`), and `run_seq`, the order in which imports
 *   run: their acceptance, or their approval for a held sync; `state`, where a running import is;
 *   `roster_version`, which tells an import whether its plan still holds.
 */
export class Migration20261201000000_history_sync extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table jobs drop constraint jobs_type_valid`);
    this.addSql(`alter table jobs add constraint jobs_type_valid check (type in ('command', 'batch', 'import', 'revert'))`);
    this.addSql(`alter table jobs drop constraint jobs_status_valid`);
    this.addSql(`alter table jobs add constraint jobs_status_valid check (status in
      ('queued', 'running', 'completed', 'completed_with_errors', 'failed', 'cancelled', 'awaiting_approval', 'rejected'))`);
    this.addSql(`alter table job_totals drop constraint job_totals_status_final`);
    this.addSql(`alter table job_totals add constraint job_totals_status_final check (status in
      ('completed', 'completed_with_errors', 'failed', 'cancelled', 'rejected'))`);
    this.addSql(`alter table jobs add column reverts uuid references jobs (id) on delete set null`);
    this.addSql(`create index jobs_reverts_idx on jobs (reverts) where reverts is not null`);
    this.addSql(`alter table jobs add column hold jsonb`);
    this.addSql(`alter table jobs add column run_seq bigint`);
    this.addSql(`update jobs set run_seq = seq`);
    this.addSql(`create sequence jobs_run_seq owned by jobs.run_seq`);
    this.addSql(`select setval('jobs_run_seq', coalesce((select max(seq) from jobs), 0) + 1, false)`);
    this.addSql(`alter table jobs alter column run_seq set default nextval('jobs_run_seq'), alter column run_seq set not null`);
    this.addSql(`create index jobs_heavy_unfinished_idx on jobs (run_seq) where status in ('queued', 'running') and type in ('import', 'revert')`);
    // Where a running import or revert is (its phase, parts done, …): checkpointed with the data it describes.
    this.addSql(`alter table jobs add column state jsonb`);
    // Bumped by every transaction that writes the roster outside an import (commands, reverts): an
    // import's plan made at version v still holds while the version is v.
    this.addSql(`create table roster_version (
        one_row boolean primary key default true constraint roster_version_one_row check (one_row),
        version bigint not null default 0)`);
    this.addSql(`insert into roster_version default values`);
    // The work tables of running imports (import-work.repository.ts), apart from the service's tables.
    this.addSql(`create schema if not exists import_work`);
    // Row errors are listed in line order: an import reports a file's bad rows first, its rows that
    // fail against the roster as it applies them.
    this.addSql(`create index job_errors_line_idx on job_errors (job_id, (coalesce(line, 0)), seq)`);
    // Holds counted as they happen, for the metrics (a counter never goes down).
    this.addSql(`alter table import_totals add column holds bigint not null default 0`);

    this.addSql(`alter table students add column created_by bigint, add column created_line int`);
    this.addSql(`alter table course_enrollments add column created_by bigint, add column created_line int,
      add column source text constraint course_enrollments_source_valid check (source ~ '^[a-z0-9._-]{1,64}$')`);
    // A job's creations in the order they were made; rows from before history stay out of the indexes.
    this.addSql(`create index students_created_by_idx on students (created_by, created_line) where created_by is not null`);
    this.addSql(`create index course_enrollments_created_by_idx on course_enrollments (created_by, created_line) where created_by is not null`);

    const changeColumns = `
        kind text not null constraint changes_kind_valid check (kind in ('student_created', 'student_renamed',
          'student_email_changed', 'enrollment_created', 'enrollment_activated', 'enrollment_deactivated')),
        student_id bigint,
        course_id bigint,
        email text,
        course_name text,
        before text,
        after text,
        line int,
        ord smallint not null default 0`;
    this.addSql(`
      create table changes (
        seq bigint generated always as identity primary key,
        job_seq bigint not null references jobs (seq) on delete cascade,
        ${changeColumns},
        at timestamptz not null default now()
      )`);
    this.addSql(`create index changes_job_idx on changes (job_seq, line, ord, seq)`);
    this.addSql(`create index changes_student_idx on changes (student_id, seq)`);
    this.addSql(`
      create table planned_changes (
        job_seq bigint not null references jobs (seq) on delete cascade,
        seq bigint generated always as identity,
        ${changeColumns},
        primary key (job_seq, seq)
      )`);
    this.addSql(`create index planned_changes_order_idx on planned_changes (job_seq, line, ord, seq)`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists job_errors_line_idx');
    this.addSql('drop schema if exists import_work cascade');
    this.addSql('drop table if exists planned_changes, changes, roster_version');
    this.addSql('alter table jobs drop column if exists state');
    this.addSql('drop index if exists course_enrollments_created_by_idx, students_created_by_idx');
    this.addSql('alter table course_enrollments drop column if exists source, drop column if exists created_line, drop column if exists created_by');
    this.addSql('alter table students drop column if exists created_line, drop column if exists created_by');
    this.addSql('alter table import_totals drop column if exists holds');
    this.addSql('drop index if exists jobs_heavy_unfinished_idx');
    this.addSql('alter table jobs drop column if exists run_seq, drop column if exists hold, drop column if exists reverts');
  }
}
