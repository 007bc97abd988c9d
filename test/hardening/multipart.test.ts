import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import type { Deps } from '../../src/process/deps.js';
import { createTestDeps } from '../support/deps.js';
import { ADMIN, testConfig } from '../support/env.js';
import { exited, freePort, spawnApi } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

/**
 * Found by the fuzzing pass (issue 15): a multipart upload cut short inside a part the service
 * skips made busboy error that part's stream, which had no listener: an uncaught exception that
 * ended the API process. Against a real API process, since what is at stake is the process.
 */

const config = testConfig();
let deps: Deps;
let api: ChildProcess;
let url: string;
beforeAll(async () => {
  deps = await createTestDeps('api', config);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  api = spawnApi(config, port);
  await waitFor('the API to answer', async () => (await fetch(`${url}/healthz`).catch(() => null))?.ok === true, { timeoutMs: 60_000, everyMs: 100 });
}, 90_000);
afterAll(async () => {
  if (api.exitCode === null) {
    api.kill('SIGTERM');
    await exited(api);
  }
  await deps.close();
});

const part = (name: string, body: string, file = true) =>
  `--b\r\nContent-Disposition: form-data; name="${name}"${file ? '; filename="x.csv"' : ''}\r\n\r\n${body}`;
const upload = (body: string) =>
  fetch(`${url}/api/v1/admin/imports`, { method: 'POST', headers: { ...ADMIN, 'Content-Type': 'multipart/form-data; boundary=b' }, body });

describe('multipart bodies cut short', () => {
  it.each([
    ['a skipped file part cut short, before the file', part('note', 'abc')],
    ['a skipped file part cut short, after the file', `${part('file', 'email,course_name\na@x.edu,Art')}\r\n${part('note', 'abc')}`],
    ['a second "file" part cut short', `${part('file', 'email,course_name\na@x.edu,Art')}\r\n${part('file', 'abc')}`],
    ['the file part cut short', part('file', 'email,course_name\na@x.edu,Art')],
  ])('%s: a 400, and the API lives on', async (_label, body) => {
    const res = await upload(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid', message: expect.stringMatching(/multipart/) } });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(api.exitCode).toBeNull();
  });
});
