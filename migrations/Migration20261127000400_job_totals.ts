import { Migration } from '@mikro-orm/migrations';

/**
 * Running totals for the Prometheus counters (metrics.ts). The `jobs` table cannot be their
 * source: the reconciler deletes finished jobs past their retention, and a counter must never go
 * down. `job_totals` counts the jobs that reached each final status; `import_totals` (one row)
 * the import rows applied. Both grow in the transaction that finishes the job or commits the
 * batch, and are never decreased. They start from the jobs kept now, so the counters go on from
 * what the old gauges showed.
 */
export class Migration20261127000400_job_totals extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table job_totals (
        type text not null,
        status text not null constraint job_totals_status_final check (status in ('completed', 'completed_with_errors', 'failed', 'cancelled')),
        jobs bigint not null default 0,
        primary key (type, status)
      )`);
    this.addSql(`
      create table import_totals (
        one_row boolean primary key default true constraint import_totals_one_row check (one_row),
        rows_applied bigint not null default 0
      )`);
    this.addSql(`
      insert into job_totals (type, status, jobs)
      select type, status, count(*) from jobs
       where status in ('completed', 'completed_with_errors', 'failed', 'cancelled')
       group by type, status`);
    // A running import's checkpoint counts too: those rows are applied, and its next batches add theirs.
    this.addSql(`
      insert into import_totals (rows_applied)
      select coalesce(sum((counts->>'valid')::bigint), 0) from jobs
       where type = 'import' and payload->>'dry_run' is distinct from 'true'`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists import_totals, job_totals');
  }
}
