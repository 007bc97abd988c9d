import { parseArgs } from 'node:util';
import { SOURCE_KEY, SOURCE_RULE } from '../domain/source.js';
import { CHANGE_KINDS } from '../history/change.model.js';
import { ApiError, createClient } from './enroll/client.js';
import { download } from './enroll/download.js';
import { EXIT, UsageError } from './enroll/exit-codes.js';
import { jobChanges, studentHistory } from './enroll/history.js';
import { importFile, type ImportRequest } from './enroll/import.js';
import type { Io } from './enroll/io.js';
import { approveJob, rejectJob, revertJob } from './enroll/job-actions.js';

const USAGE = `Usage: enroll <command> [options]

Commands:
  import FILE [--mode set|add|sync] [--dry-run] [--wait] [--source KEY] [--filename NAME]
              [--scope courses|all] [--max-deactivate-percent N] [--max-deactivate N]
              [--max-invalid-percent N]
                      upload a CSV roster (streamed; FILE - reads stdin); prints the job id, or
                      with --wait shows upload and processing progress, the counts and the
                      first errors (a held sync: its hold). --scope and the --max-* thresholds
                      are for --mode sync; --filename defaults to FILE's own name
  status JOB_ID       the job as JSON (GET /api/v1/jobs/JOB_ID)
  errors JOB_ID       every row error of the job as CSV on stdout
  changes JOB_ID [--kind KIND] [--course-id ID]
                      every change the job made (a dry run or a held sync: would make) as CSV
                      on stdout; KIND is student_created, student_renamed,
                      student_email_changed, enrollment_created, enrollment_activated or
                      enrollment_deactivated
  revert JOB_ID [--dry-run] [--force] [--wait]
                      undo the job's changes (--force: values changed since by a later job
                      too); prints the revert job's id, or with --wait its summary and conflicts
  approve JOB_ID [--wait]
                      apply a held roster sync; prints its id, or with --wait follows it
  reject JOB_ID       end a held roster sync, applying nothing
  history STUDENT_ID  every change to the student and their enrollments, newest first, as CSV
  export              every student as CSV on stdout (GET /api/v1/admin/students/export.csv)

Options:
  --url URL           the service (default: $ENROLL_URL, else http://localhost:3000)
  --token TOKEN       the bearer token (default: $ENROLL_TOKEN); import, revert, approve and
                      reject need the admin token
  -h, --help          this text

Exit codes: 0 done (--wait: completed), 1 completed with row errors (a revert: conflicts), 2 the
job failed or the API refused the request, could not be reached or answered something
unexpected, 3 the job was cancelled or rejected, 4 a roster sync is held for approval (nothing
applied), 64 usage error.
`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  mode: { type: 'string' },
  'dry-run': { type: 'boolean' },
  wait: { type: 'boolean' },
  source: { type: 'string' },
  filename: { type: 'string' },
  scope: { type: 'string' },
  'max-deactivate-percent': { type: 'string' },
  'max-deactivate': { type: 'string' },
  'max-invalid-percent': { type: 'string' },
  force: { type: 'boolean' },
  kind: { type: 'string' },
  'course-id': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };

/** The commands each command-specific option belongs to. */
const OWNERS: Partial<Record<keyof typeof OPTIONS, string[]>> = {
  mode: ['import'],
  'dry-run': ['import', 'revert'],
  wait: ['import', 'revert', 'approve'],
  source: ['import'],
  filename: ['import'],
  scope: ['import'],
  'max-deactivate-percent': ['import'],
  'max-deactivate': ['import'],
  'max-invalid-percent': ['import'],
  force: ['revert'],
  kind: ['changes'],
  'course-id': ['changes'],
};
const SYNC_ONLY = ['scope', 'max-deactivate-percent', 'max-deactivate', 'max-invalid-percent'] as const;

const listed = (names: string[]) => (names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`);

/** Runs `enroll` with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[], env: Record<string, string | undefined>, io: Io = process): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...args] = positionals;
    if (values.help || command === 'help' || command === undefined) {
      (command === undefined && !values.help ? io.stderr : io.stdout).write(USAGE);
      return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
    }
    const misplaced = (Object.keys(OWNERS) as Array<keyof typeof OWNERS>).find((o) => values[o] !== undefined && !OWNERS[o]!.includes(command));
    if (misplaced) throw new UsageError(`--${misplaced} is an option of ${listed(OWNERS[misplaced]!)} only`);
    const token = values.token ?? env.ENROLL_TOKEN;
    if (!token) throw new UsageError('no token: pass --token or set ENROLL_TOKEN');
    const client = createClient(values.url ?? env.ENROLL_URL ?? 'http://localhost:3000', token);
    switch (command) {
      case 'import':
        return await importFile(client, importRequestOf(exactlyOne(args, 'FILE'), values), io);
      case 'status': {
        const job = await client.job(exactlyOne(args, 'JOB_ID'));
        io.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
        return EXIT.ok;
      }
      case 'errors':
        return await download(client, `/api/v1/jobs/${encodeURIComponent(exactlyOne(args, 'JOB_ID'))}/errors?format=csv`, io);
      case 'changes': {
        const jobId = exactlyOne(args, 'JOB_ID');
        if (values.kind !== undefined && !(CHANGE_KINDS as readonly string[]).includes(values.kind)) {
          throw new UsageError(`--kind must be one of ${CHANGE_KINDS.join(', ')}, not ${values.kind}`);
        }
        if (values['course-id'] !== undefined) positiveInteger('--course-id', values['course-id']);
        return await jobChanges(client, jobId, { kind: values.kind, courseId: values['course-id'] }, io);
      }
      case 'revert':
        return await revertJob(client, { jobId: exactlyOne(args, 'JOB_ID'), dryRun: values['dry-run'] ?? false, force: values.force ?? false, wait: values.wait ?? false }, io);
      case 'approve':
        return await approveJob(client, exactlyOne(args, 'JOB_ID'), values.wait ?? false, io);
      case 'reject':
        return await rejectJob(client, exactlyOne(args, 'JOB_ID'), io);
      case 'history':
        return await studentHistory(client, positiveInteger('STUDENT_ID', exactlyOne(args, 'STUDENT_ID')), io);
      case 'export':
        if (args.length) throw new UsageError(`export takes no arguments: ${args.join(' ')}`);
        return await download(client, '/api/v1/admin/students/export.csv', io);
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string } | undefined)?.code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`enroll: ${(err as Error).message.replace(/\s*\n\s*/g, ' ')}\nRun enroll --help for the usage.\n`);
      return EXIT.usage;
    }
    // Anything else failed the command, whatever broke: never exit 1, which means "completed with row errors".
    io.stderr.write(`enroll: ${describeFailure(err)}\n`);
    return EXIT.failed;
  }
}

/** One line for what failed: the API's message and status, or the error's message with its cause. */
function describeFailure(err: unknown): string {
  let text = String(err);
  if (err instanceof ApiError) text = `${err.message}${err.status ? ` (HTTP ${err.status}${err.code ? ` ${err.code}` : ''})` : ''}`;
  // fetch's own messages ("terminated", "fetch failed") say little without their cause's message.
  else if (err instanceof Error) text = err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  return text.replace(/\s*\n\s*/g, ' ');
}

/** The one positional argument a command takes. */
function exactlyOne(args: Array<string | undefined>, name: string): string {
  if (args.length !== 1 || !args[0]) throw new UsageError(args.length > 1 ? `too many arguments: ${args.join(' ')}` : `missing ${name}`);
  return args[0];
}

/** A whole number of 1 or more, as the API's ids are. */
function positiveInteger(name: string, value: string): string {
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw new UsageError(`${name} must be a positive integer, not ${value}`);
  return value;
}

const PERCENT = /^\d{1,3}(\.\d{1,4})?$/;

/**
 * `enroll import`'s options, checked as the API checks them (so that a bad one is a usage error
 * before any byte is uploaded): sync's scope and thresholds only with `--mode sync`.
 */
function importRequestOf(file: string, values: Values): ImportRequest {
  const mode = values.mode ?? 'set';
  if (mode !== 'set' && mode !== 'add' && mode !== 'sync') throw new UsageError(`--mode must be set, add or sync, not ${mode}`);
  const req: ImportRequest = { file, mode, dryRun: values['dry-run'] ?? false, wait: values.wait ?? false };
  if (values.source !== undefined) {
    if (!SOURCE_KEY.test(values.source)) throw new UsageError(`--source must be ${SOURCE_RULE}, not ${values.source}`);
    req.source = values.source;
  }
  if (values.filename !== undefined) {
    if (values.filename.trim().length === 0 || values.filename.length > 255) throw new UsageError('--filename must be 1 to 255 characters');
    req.fileName = values.filename;
  }
  const syncOnly = SYNC_ONLY.find((o) => values[o] !== undefined);
  if (mode !== 'sync') {
    if (syncOnly) throw new UsageError(`--${syncOnly} is an option of --mode sync only`);
    return req;
  }
  const scope = values.scope;
  if (scope !== undefined && scope !== 'courses' && scope !== 'all') throw new UsageError(`--scope must be courses or all, not ${scope}`);
  for (const name of ['max-deactivate-percent', 'max-invalid-percent'] as const) {
    const v = values[name];
    if (v !== undefined && (!PERCENT.test(v) || Number(v) > 100)) throw new UsageError(`--${name} must be a number from 0 to 100, not ${v}`);
  }
  const max = values['max-deactivate'];
  if (max !== undefined && !/^\d{1,12}$/.test(max)) throw new UsageError(`--max-deactivate must be a whole number, not ${max}`);
  req.sync = { scope, maxDeactivatePercent: values['max-deactivate-percent'], maxDeactivate: max, maxInvalidPercent: values['max-invalid-percent'] };
  return req;
}
