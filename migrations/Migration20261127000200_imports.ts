import { Migration } from '@mikro-orm/migrations';

/**
 * CSV imports (issue 4). An upload streams into `upload_chunks` (1 MiB rows of bytea) so any
 * worker on any machine can read it and nothing is lost if the API dies after its 202; the
 * `uploads` row records size and SHA-256 and, once stored, the job it belongs to. Chunks are
 * deleted when the import finishes; an upload abandoned mid-stream (API died) is purged later.
 * `jobs.warnings` holds file-level warnings (ignored columns). `idempotency_keys.touched_at` is the
 * heartbeat of a key held pending while its upload streams: a key not touched for a while was
 * abandoned and may be taken over.
 */
export class Migration20261127000200_imports extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table uploads (
        id uuid primary key,
        status text not null default 'receiving' constraint uploads_status_valid check (status in ('receiving', 'stored')),
        size_bytes bigint not null default 0,
        sha256 text,
        job_id uuid references jobs (id) on delete cascade,
        created_at timestamptz not null default now(),
        touched_at timestamptz not null default now()
      )`);
    this.addSql(`create index uploads_receiving_idx on uploads (touched_at) where status = 'receiving'`);
    this.addSql(`create index uploads_job_id_idx on uploads (job_id)`);
    this.addSql(`
      create table upload_chunks (
        upload_id uuid not null references uploads (id) on delete cascade,
        seq int not null,
        data bytea not null,
        primary key (upload_id, seq)
      )`);
    // CSV is read once and deleted soon after: compressing it would only cost CPU on the hot path.
    this.addSql(`alter table upload_chunks alter column data set storage external`);
    this.addSql(`alter table jobs add column warnings jsonb`);
    this.addSql(`alter table idempotency_keys add column touched_at timestamptz`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table idempotency_keys drop column if exists touched_at');
    this.addSql('alter table jobs drop column if exists warnings');
    this.addSql('drop table if exists upload_chunks, uploads');
  }
}
