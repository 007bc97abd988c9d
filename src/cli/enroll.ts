import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { ApiError, createClient, type Client } from './enroll/client.js';
import { EXIT, UsageError } from './enroll/exit-codes.js';
import { importFile } from './enroll/import.js';
import type { Io } from './enroll/io.js';

const USAGE = `Usage: enroll <command> [options]

Commands:
  import FILE [--mode set|add] [--dry-run] [--wait]
                      upload a CSV roster (streamed; FILE - reads stdin); prints the job id, or
                      with --wait shows upload and processing progress, the counts and the
                      first errors
  status JOB_ID       the job as JSON (GET /api/v1/jobs/JOB_ID)
  errors JOB_ID       every row error of the job as CSV on stdout
  export              every student as CSV on stdout (GET /api/v1/admin/students/export.csv)

Options:
  --url URL           the service (default: $ENROLL_URL, else http://localhost:3000)
  --token TOKEN       the bearer token (default: $ENROLL_TOKEN); import needs the admin token
  -h, --help          this text

Exit codes: 0 done (import --wait: completed), 1 completed with row errors, 2 the job failed
or the API refused the request, could not be reached or answered something unexpected, 3 the
job was cancelled, 64 usage error.
`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  mode: { type: 'string' },
  'dry-run': { type: 'boolean' },
  wait: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
const IMPORT_ONLY = ['mode', 'dry-run', 'wait'] as const;

/** Runs `enroll` with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[], env: Record<string, string | undefined>, io: Io = process): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...args] = positionals;
    if (values.help || command === 'help' || command === undefined) {
      (command === undefined && !values.help ? io.stderr : io.stdout).write(USAGE);
      return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
    }
    if (command !== 'import') {
      const misplaced = IMPORT_ONLY.find((o) => values[o] !== undefined);
      if (misplaced) throw new UsageError(`--${misplaced} is an option of import only`);
    }
    const token = values.token ?? env.ENROLL_TOKEN;
    if (!token) throw new UsageError('no token: pass --token or set ENROLL_TOKEN');
    const client = createClient(values.url ?? env.ENROLL_URL ?? 'http://localhost:3000', token);
    switch (command) {
      case 'import': {
        const file = exactlyOne(args, 'FILE');
        const mode = values.mode ?? 'set';
        if (mode !== 'set' && mode !== 'add') throw new UsageError(`--mode must be set or add, not ${mode}`);
        return await importFile(client, { file, mode, dryRun: values['dry-run'] ?? false, wait: values.wait ?? false }, io);
      }
      case 'status': {
        const job = await client.job(exactlyOne(args, 'JOB_ID'));
        io.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
        return EXIT.ok;
      }
      case 'errors':
        return await download(client, `/api/v1/jobs/${encodeURIComponent(exactlyOne(args, 'JOB_ID'))}/errors?format=csv`, io);
      case 'export':
        if (args.length) throw new UsageError(`export takes no arguments: ${args.join(' ')}`);
        return await download(client, '/api/v1/admin/students/export.csv', io);
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string } | undefined)?.code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`enroll: ${(err as Error).message}\nRun enroll --help for the usage.\n`);
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

/** Streams a CSV download to stdout as it arrives. A reader that stops early (`| head`) is not an error. */
async function download(client: Client, path: string, io: Io): Promise<number> {
  const res = await client.request(path, { headers: { Accept: 'text/csv' } });
  try {
    await pipeline(Readable.fromWeb(res.body! as ReadableStream<Uint8Array>), io.stdout, { end: false });
    return EXIT.ok;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.ok;
    // The server cuts a failed download off rather than ending it like a complete file.
    throw new ApiError(`the download broke off: ${(err as Error).message}`, null, null);
  }
}
