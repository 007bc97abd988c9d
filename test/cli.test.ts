import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProgress } from '../src/cli/enroll/progress.js';
import { startCliService, type CliService } from './support/cli.js';
import { freePort } from './support/processes.js';
import { waitFor } from './support/wait.js';

const UUID = /^[0-9a-f-]{36}$/;

let service: CliService;
const enroll: CliService['enroll'] = (...args) => service.enroll(...args);
const csvFile = (name: string, text: string) => service.file(name, text);

/** A stand-in for the service that answers every request with `handler`, for answers the real one never gives. */
async function withFakeService<T>(handler: RequestListener, use: (url: string) => Promise<T>): Promise<T> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

beforeAll(async () => {
  service = await startCliService();
});
afterAll(async () => {
  await service?.stop();
});

describe('enroll import --wait', () => {
  it('a clean file: progress on stderr, the counts on stdout, exit 0', async () => {
    const file = csvFile('clean.csv', 'name,email,course_name\nAnn,ann@x.edu,Art\nBo,bo@x.edu,Biology\n');
    const run = await enroll(['import', file, '--wait']);
    expect(run.stderr).toMatch(/^upload: .*\(100%\)$/m);
    expect(run.stderr).toMatch(/^processing: 2 of 2 rows \(100%\), completed$/m);
    expect(run.stdout).toMatch(/^Job [0-9a-f-]{36} \(import\): completed/);
    expect(run.stdout).toContain('rows: 2 (2 valid, 0 invalid)');
    expect(run.stdout).toContain('students: 2 created, 0 updated');
    expect(run.code).toBe(0);
  });

  it('a dirty file in add mode: the first errors, exit 1', async () => {
    const file = csvFile('dirty.csv', 'name,email,course_name\nAnn,ann@x.edu,Chemistry\nX,not-an-email,Art\nY,y@x.edu,\n');
    const run = await enroll(['import', file, '--mode', 'add', '--wait']);
    expect(run.stdout).toContain('completed_with_errors');
    expect(run.stdout).toMatch(/^  mode: add$/m);
    expect(run.stdout).toContain('rows: 3 (1 valid, 2 invalid)');
    expect(run.stdout).toContain('First 2 row errors of 2:');
    expect(run.stdout).toMatch(/line 3, email: .*\[invalid_email\] \(value: "not-an-email"\)/);
    expect(run.stdout).toMatch(/line 4, course_name: /);
    expect(run.code).toBe(1);
    const ann = await service.sql(
      `select c.name from course_enrollments e join courses c on c.id = e.course_id join students s on s.id = e.student_id where s.email = 'ann@x.edu' and e.active order by 1`,
    );
    expect(ann.map((r) => r.name)).toEqual(['Art', 'Chemistry']); // add kept Art
  });

  it('a dry run says so before the counts, which are what the import would do; nothing is written', async () => {
    const file = csvFile('dry.csv', 'name,email,course_name\nDee,dee-dry@x.edu,Art\n');
    const run = await enroll(['import', file, '--dry-run', '--wait']);
    expect(run.stdout).toMatch(/\n  dry run \(mode set\): nothing was changed; this is what the import would do:\n  rows: 1 \(1 valid, 0 invalid\)\n  students: 1 created,/);
    expect(run.stdout).not.toMatch(/^  mode: /m);
    expect(run.code).toBe(0);
    const dee = await service.sql(`select 1 from students where email = 'dee-dry@x.edu'`);
    expect(dee).toEqual([]);
  });

  it.each([
    ['/dev/stdin', 'devstdin'],
    ['-', 'dash'],
  ])('%s from a pipe is uploaded without a size (chunked), its bytes shown without a total', async (file, tag) => {
    const csv = `name,email,course_name\nPia,pia-${tag}@x.edu,Art\nPo,po-${tag}@x.edu,Biology\n`;
    const run = await enroll(['import', file, '--wait'], {}, csv);
    expect(run.stderr).toMatch(new RegExp(`^upload: ${Buffer.byteLength(csv)} B$`, 'm'));
    expect(run.stdout).toContain('rows: 2 (2 valid, 0 invalid)');
    expect(run.code).toBe(0);
  });

  it('a file that is not a roster fails as a whole: exit 2', async () => {
    const run = await enroll(['import', csvFile('wrong.csv', 'foo,bar\n1,2\n'), '--wait']);
    expect(run.stdout).toMatch(/\(import\): failed/);
    expect(run.stdout).toMatch(/error: .*email/);
    expect(run.code).toBe(2);
  });
});

describe('enroll import (no wait), status, errors, export', () => {
  it('prints the job id alone; status shows the job; errors gives the CSV', async () => {
    const run = await enroll(['import', csvFile('two.csv', 'name,email,course_name\nZed,zed@x.edu,Art\nQ,bad,Art\n')]);
    expect(run.code).toBe(0);
    const jobId = run.stdout.trim();
    expect(jobId).toMatch(UUID);

    let job: any;
    await waitFor('the import to finish', async () => {
      const status = await enroll(['status', jobId], { ENROLL_TOKEN: service.config.readToken });
      expect(status.code).toBe(0);
      job = JSON.parse(status.stdout);
      return job.status === 'completed_with_errors';
    }, { timeoutMs: 20_000, everyMs: 100 });
    expect(job).toMatchObject({ id: jobId, type: 'import', counts: { rows: 2, valid: 1, invalid: 1 } });

    const errors = await enroll(['errors', jobId]);
    expect(errors.code).toBe(0);
    expect(errors.stdout.split(/\r?\n/).filter(Boolean)).toEqual([
      'line,column,code,message,value',
      expect.stringMatching(/^3,email,invalid_email,.*,bad$/),
    ]);
  });

  it('export streams every student as CSV', async () => {
    const run = await enroll(['export'], { ENROLL_TOKEN: service.config.readToken });
    expect(run.code).toBe(0);
    const lines = run.stdout.split(/\r?\n/).filter(Boolean);
    expect(lines[0]).toBe('id,name,email,course_name,active,team_id,team_name,team_number');
    const emails = lines.slice(1).map((l) => l.split(',')[2]);
    expect(emails).toEqual(expect.arrayContaining(['ann@x.edu', 'bo@x.edu', 'zed@x.edu']));
  });
});

describe('enroll progress amounts', () => {
  it.each([
    [64 * 1024, 16_000_000, 'bytes', '0.1 of 15.3 MB'], // the value in the total's unit, not '64.0 of 15.3 MB'
    [3 * 1024 ** 2, 16_000_000, 'bytes', '3.0 of 15.3 MB'],
    [100, 900, 'bytes', '100 of 900 B'],
    [512, 2048, 'bytes', '0.5 of 2.0 KB'],
    [70_000, null, 'bytes', '68.4 KB'],
    [1_500, 20_000, 'rows', '1,500 of 20,000 rows'],
    [7, null, 'rows', '7 rows'],
  ] as const)('%d of %s %s reads %j', (value, total, unit, text) => {
    expect(formatProgress(value, total, unit)).toBe(text);
  });
});

describe('enroll errors and exit codes', () => {
  it('prints the API’s message and exits 2 on a bad token, a read token import, an unknown job, no service', async () => {
    const bad = await enroll(['export'], { ENROLL_TOKEN: 'not-a-token-0123456789' });
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown token (HTTP 401 unauthorized)') });
    const reader = await enroll(['import', csvFile('r.csv', 'name,email,course_name\nA,a@x.edu,Art\n')], { ENROLL_TOKEN: service.config.readToken });
    expect(reader).toMatchObject({ code: 2, stderr: expect.stringContaining('HTTP 403 forbidden') });
    const missing = await enroll(['status', '00000000-0000-4000-8000-000000000000']);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('no job 00000000-0000-4000-8000-000000000000') });
    const down = await enroll(['status', 'x'], { ENROLL_URL: `http://127.0.0.1:${await freePort()}` });
    expect(down).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot reach') });
  });

  it.each([
    ['a 200 that is not JSON', (_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>\n<p>Sign in to the network</p>\n</html>')],
    ['a connection cut in the middle of the body', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' }).write('{"id": "', () => res.destroy());
    }],
  ] satisfies Array<[string, RequestListener]>)('%s: one plain line on stderr, exit 2 (failed)', async (_what, handler) => {
    const run = await withFakeService(handler, (fake) => enroll(['status', 'some-job'], { ENROLL_URL: fake }));
    expect(run.stderr).toMatch(/^enroll: [^\n]+\n$/);
    expect(run.code).toBe(2);
  });

  it.each([
    [[], 'Usage: enroll'],
    [['import'], 'missing FILE'],
    [['import', 'no-such-file.csv', '--wait'], 'cannot read no-such-file.csv'],
    [['import', 'x.csv', '--mode', 'replace'], '--mode must be set, add or sync'],
    [['status', 'a', 'b'], 'too many arguments'],
    [['export', '--wait'], '--wait is an option of import, revert and approve only'],
    [['frobnicate'], 'unknown command frobnicate'],
    [['status', '--nope'], "Unknown option '--nope'"],
  ])('usage error %j exits 64', async (args, message) => {
    const run = await enroll(args);
    expect(run.stderr).toContain(message);
    expect(run.code).toBe(64);
  });

  it('--help prints the usage and exits 0', async () => {
    const run = await enroll(['--help']);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining('Exit codes:') });
  });
});
