import type { Logger } from '../process/logger.js';
import { runLegacyTool, type LegacyTool } from '../legacy/cli.js';
import { backfillEnrollments, planBackfill, type BackfillProgress } from '../legacy/legacy.repository.js';
import { formatBackfill, formatPlan } from '../legacy/report.js';

const usage = 'usage: npm run backfill:enrollments [-- [--commit] [--batch-size N] [--json]]';

/** `npm run backfill:enrollments`: one active enrollment per active legacy membership (dry run unless --commit). */
const tool: LegacyTool = {
  name: 'backfill-enrollments',
  verb: 'backfill',
  options: ['commit', 'batch-size', 'json', 'help'],
  usage,
  help: [
    usage,
    'Writes one active enrollment for every (course, student) pair of an active legacy membership that',
    'has none: a new row, or an inactive one reactivated. Never deactivates anything, never writes the',
    'legacy tables; a second run writes nothing. Without --commit it only prints what it would write.',
    '  --commit         write (in batches, one transaction each)',
    '  --batch-size N   pairs per transaction (default 5000)',
    '  --json           print the outcome as one JSON object',
    '  --help           print this help',
    'Connects to DATABASE_URL; logs and progress (LOG_LEVEL) go to stderr, the report to stdout.',
  ].join('\n'),
};

/**
 * Logs what is to be written once it is known, then progress at most every 2 s and always the last
 * batch: long runs show life, short ones stay quiet.
 */
function progressLogger(logger: Logger) {
  let last = Date.now();
  return (p: BackfillProgress) => {
    if (p.batches === 0) return logger.info({ total: p.total }, 'backfill planned: pairs to write');
    if (p.processed < p.total && Date.now() - last < 2_000) return;
    last = Date.now();
    logger.info({ ...p, percent: Math.floor((p.processed * 100) / p.total) }, 'backfill progress');
  };
}

process.exitCode = await runLegacyTool(tool, process.argv.slice(2), async ({ orm, logger, args, print }) => {
  if (!args.commit) {
    const plan = await planBackfill(orm);
    print(formatPlan(plan), { legacy_tables: true, mode: 'dry_run', ...plan });
    return;
  }
  logger.info({ batch_size: args.batchSize }, 'backfill started');
  const result = await backfillEnrollments(orm, { batchSize: args.batchSize, onProgress: progressLogger(logger) });
  logger.info(result, 'backfill finished');
  print(formatBackfill(result), { legacy_tables: true, mode: 'commit', ...result });
});
