import { Migration20261127000000_initial } from './Migration20261127000000_initial.js';
import { Migration20261127000100_jobs } from './Migration20261127000100_jobs.js';
import { Migration20261127000200_imports } from './Migration20261127000200_imports.js';
import { Migration20261127000300_job_handover } from './Migration20261127000300_job_handover.js';
import { Migration20261127000400_job_totals } from './Migration20261127000400_job_totals.js';
import { Migration20261201000000_history_sync } from './Migration20261201000000_history_sync.js';
import { Migration20261201000100_search } from './Migration20261201000100_search.js';
import { Migration20261201000200_jobs_reverts_seq } from './Migration20261201000200_jobs_reverts_seq.js';

/**
 * Every migration, in order. Listed explicitly (not globbed) so that the same list works under
 * tsx, vitest and a compiled build. Append new migrations at the end.
 */
export const migrationsList = [
  { name: 'Migration20261127000000_initial', class: Migration20261127000000_initial },
  { name: 'Migration20261127000100_jobs', class: Migration20261127000100_jobs },
  { name: 'Migration20261127000200_imports', class: Migration20261127000200_imports },
  { name: 'Migration20261127000300_job_handover', class: Migration20261127000300_job_handover },
  { name: 'Migration20261127000400_job_totals', class: Migration20261127000400_job_totals },
  { name: 'Migration20261201000000_history_sync', class: Migration20261201000000_history_sync },
  { name: 'Migration20261201000100_search', class: Migration20261201000100_search },
  { name: 'Migration20261201000200_jobs_reverts_seq', class: Migration20261201000200_jobs_reverts_seq },
];
