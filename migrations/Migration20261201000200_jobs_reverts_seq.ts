import { Migration } from '@mikro-orm/migrations';

/**
 * A job's view names its newest revert (`reverted_by`: the reverts of it, newest `seq` first).
 * Indexed on `reverts` alone, a jobs table without statistics yet (a new deployment, a burst of
 * jobs before autovacuum) had the planner walk `jobs_seq_key` backwards for it instead: ~10 ms per
 * job at 60,000 jobs, a status poll p99 of 2–3 s. On (reverts, seq) the index serves the order too.
 */
export class Migration20261201000200_jobs_reverts_seq extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index jobs_reverts_seq_idx on jobs (reverts, seq) where reverts is not null`);
    this.addSql(`drop index if exists jobs_reverts_idx`);
  }

  override async down(): Promise<void> {
    this.addSql(`create index jobs_reverts_idx on jobs (reverts) where reverts is not null`);
    this.addSql(`drop index if exists jobs_reverts_seq_idx`);
  }
}
