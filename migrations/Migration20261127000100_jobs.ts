import { Migration } from '@mikro-orm/migrations';

/**
 * Jobs live in PostgreSQL (CONTRACT §1): status, counts, progress and row errors survive any
 * restart of Redis or of a process. `seq` orders jobs by acceptance; workers claim in that order.
 */
export class Migration20261127000100_jobs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table jobs (
        id uuid primary key,
        seq bigint generated always as identity unique,
        type text not null constraint jobs_type_valid check (type in ('command', 'batch', 'import')),
        status text not null default 'queued' constraint jobs_status_valid check (status in
          ('queued', 'running', 'completed', 'completed_with_errors', 'failed', 'cancelled')),
        payload jsonb not null,
        counts jsonb not null default '{}',
        processed bigint not null default 0,
        total bigint,
        result jsonb,
        error jsonb,
        cancel_requested boolean not null default false,
        attempts int not null default 0,
        created_at timestamptz not null default now(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz not null default now()
      )`);
    // Workers claim unfinished jobs of one type in acceptance order; the reconciler scans them too.
    this.addSql(`create index jobs_unfinished_idx on jobs (type, seq) where status in ('queued', 'running')`);
    this.addSql(`create index jobs_finished_at_idx on jobs (finished_at) where finished_at is not null`);

    this.addSql(`
      create table job_errors (
        job_id uuid not null references jobs (id) on delete cascade,
        seq int not null,
        line bigint,
        "column" text,
        code text not null,
        message text not null,
        value text,
        primary key (job_id, seq)
      )`);

    this.addSql(`
      create table idempotency_keys (
        key text primary key constraint idempotency_keys_key_length check (char_length(key) between 1 and 255),
        fingerprint text not null,
        job_id uuid,
        response_status int,
        response_body jsonb,
        created_at timestamptz not null default now()
      )`);
    this.addSql(`create index idempotency_keys_created_at_idx on idempotency_keys (created_at)`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists idempotency_keys, job_errors, jobs');
  }
}
