import { runLegacyTool, type LegacyTool } from '../legacy/cli.js';
import { auditLegacyEnrollments } from '../legacy/legacy.repository.js';
import { formatAudit } from '../legacy/report.js';

const usage = 'usage: npm run audit:enrollments [-- --json]';

/** `npm run audit:enrollments`: how far course_enrollments covers the legacy group_members (read only). */
const tool: LegacyTool = {
  name: 'audit-enrollments',
  verb: 'audit',
  options: ['json', 'help'],
  usage,
  help: [
    usage,
    'Compares the active memberships of the legacy group_members/groups tables with course_enrollments.',
    'Reads only. Coverage = (course, student) pairs from active memberships that have an active',
    'enrollment / all such pairs (100% when there are none).',
    '  --json   print the report as one JSON object',
    '  --help   print this help',
    'Connects to DATABASE_URL; logs (LOG_LEVEL) go to stderr, the report to stdout.',
  ].join('\n'),
};

process.exitCode = await runLegacyTool(tool, process.argv.slice(2), async ({ orm, args, print }) => {
  const audit = await auditLegacyEnrollments(orm);
  print(formatAudit(audit), { legacy_tables: true, ...audit });
});
