import { Migration } from '@mikro-orm/migrations';

/**
 * The hand-over of jobs to BullMQ (a transactional outbox). The API only commits a job row; a relay
 * in the workers hands each new job to BullMQ and stamps `enqueued_at` in the same transaction
 * that locked it. Jobs already there were handed over by the API itself before this migration.
 * The partial index holds only the jobs still waiting to be handed over: it stays tiny.
 */
export class Migration20261127000300_job_handover extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table jobs add column enqueued_at timestamptz`);
    this.addSql(`update jobs set enqueued_at = created_at`);
    this.addSql(`create index jobs_to_enqueue_idx on jobs (seq) where enqueued_at is null`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists jobs_to_enqueue_idx');
    this.addSql('alter table jobs drop column if exists enqueued_at');
  }
}
