import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../process/config.js';
import { initORM, type Orm } from '../db/orm.js';
import { createLogger, type Logger } from '../process/logger.js';
import { findLegacyTables } from './legacy.repository.js';
import { noLegacyTablesLine } from './report.js';

/** Every option either legacy tool may accept; each tool allows a subset. */
const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  commit: { type: 'boolean' },
  'batch-size': { type: 'string' },
} as const;

type OptionName = keyof typeof OPTIONS;

/** A legacy tool: its name, what it accepts, and what `--help` and a bad argument print. */
export type LegacyTool = {
  name: string;
  verb: 'audit' | 'backfill';
  options: OptionName[];
  usage: string;
  help: string;
};

/** Parsed arguments of a legacy tool. */
export type ToolArgs = { json: boolean; commit: boolean; batchSize: number };

type Parsed = { kind: 'run'; args: ToolArgs } | { kind: 'help' } | { kind: 'error'; message: string };

const MAX_BATCH_SIZE = 100_000;

/** Parses argv strictly: an unknown option, a positional argument or a bad value is an error. */
export function parseToolArgs(argv: string[], tool: LegacyTool): Parsed {
  const options = Object.fromEntries(tool.options.map((name) => [name, OPTIONS[name]]));
  let values: Partial<Record<OptionName, string | boolean>>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const size = values['batch-size'] ?? '5000';
  const batchSize = /^\d+$/.test(String(size)) ? Number(size) : NaN;
  if (!(batchSize >= 1 && batchSize <= MAX_BATCH_SIZE)) {
    return { kind: 'error', message: `--batch-size must be an integer from 1 to ${MAX_BATCH_SIZE}, got '${size}'` };
  }
  return { kind: 'run', args: { json: values.json === true, commit: values.commit === true, batchSize } };
}

/** A failure of the database's state, said to the operator as it is. */
class ToolError extends Error {}

/** Network failures to connect, as Node names them. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The message for a failure the operator can fix (no database, no server, bad credentials), else null. */
function operatorMessage(err: unknown, databaseUrl: string): string | null {
  if (err instanceof ToolError) return err.message;
  const { code, message } = err as { code?: string; message?: string };
  const where = redactedUrl(databaseUrl);
  if (code === '3D000') return `${message}: check DATABASE_URL=${where}`;
  if (UNREACHABLE.has(code ?? '') || /^Connection terminated|connection timeout/i.test(message ?? '')) {
    return `cannot reach PostgreSQL at DATABASE_URL=${where}: ${message}`;
  }
  if (code === '28P01' || code === '28000') return `${message} (DATABASE_URL=${where})`;
  return null;
}

/** A database URL without its password, fit for a message. */
function redactedUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    if (url.searchParams.has('password')) url.searchParams.set('password', '***');
    return url.toString();
  } catch {
    return '(unparsable)';
  }
}

/** What a tool's body gets: the ORM, the logger, its arguments, and where to print its report. */
export type ToolContext = { orm: Orm; logger: Logger; args: ToolArgs; print(text: string, json: object): void };

/**
 * Runs a legacy tool and returns its exit code: 0 done (or nothing to do, or `--help`), 1 failed,
 * 2 bad arguments. Handles what both tools share: arguments, config, logger, connection, and the
 * database without legacy tables.
 */
export async function runLegacyTool(
  tool: LegacyTool,
  argv: string[],
  body: (ctx: ToolContext) => Promise<void>,
): Promise<number> {
  const parsed = parseToolArgs(argv, tool);
  if (parsed.kind === 'help') {
    process.stdout.write(`${tool.help}\n`);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${tool.name}: ${parsed.message}\n${tool.usage}\n`);
    return 2;
  }
  const { args } = parsed;
  const config = loadConfigOrExit();
  const logger = createLogger(config, tool.name, 'stderr');
  const print = (text: string, json: object) => process.stdout.write(`${args.json ? JSON.stringify(json) : text}\n`);
  let orm: Orm | undefined;
  try {
    orm = await initORM(config.databaseUrl, 2);
    const tables = await findLegacyTables(orm);
    if (tables === 'absent') {
      const line = noLegacyTablesLine(tool.verb);
      print(line, { legacy_tables: false, message: line });
      return 0;
    }
    if (tables === 'incomplete') throw new ToolError('group_members exists but groups does not: the memberships have no course');
    if (tables === 'unmigrated') {
      throw new ToolError('this database has the legacy tables but no course_enrollments: run the tools where both are (`npm run migrate` creates the service\'s tables)');
    }
    await body({ orm, logger, args, print });
    return 0;
  } catch (err) {
    const known = operatorMessage(err, config.databaseUrl);
    if (known) {
      // Something the operator can fix: one plain line, no stack trace.
      process.stderr.write(`${tool.name} failed: ${known}\n`);
      return 1;
    }
    logger.fatal({ err }, `${tool.name} failed`);
    // With LOG_LEVEL=silent the failure must still be said somewhere.
    if (!logger.isLevelEnabled('fatal')) process.stderr.write(`${tool.name} failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await orm?.close(true);
  }
}
