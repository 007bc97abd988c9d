import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../src/process/deps.js';
import { startApi } from '../../src/process/server.js';
import { createTestDeps, truncateAll } from '../support/deps.js';
import { ADMIN, testConfig } from '../support/env.js';
import { freePort } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 15 item 6: a slow honest upload is never cut by a wall clock; what ends a request is a
 * client that stops sending, and slow-loris clients are bounded by that and by a connection limit.
 * Against a real server with a small idle timeout (HTTP_IDLE_TIMEOUT_MS) so that the test is short.
 */

const IDLE_MS = 1_000;
const MAX_CONNECTIONS = 6;

let deps: Deps;
let api: Awaited<ReturnType<typeof startApi>>;
let port: number;
beforeAll(async () => {
  port = await freePort();
  deps = await createTestDeps(
    'api',
    testConfig({ PORT: String(port), HTTP_IDLE_TIMEOUT_MS: String(IDLE_MS), HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS) }),
  );
  await truncateAll(deps);
  api = await startApi(deps);
});
afterAll(async () => {
  await api?.close();
  await deps?.close();
});

/** The pace of a slow client (what these tests are about), never a wait for the server. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw connection to the API, recording what it receives and when it was closed. */
async function open(): Promise<{ socket: Socket; received: () => string; closed: Promise<number> }> {
  const socket = connect(port, '127.0.0.1');
  const openedAt = Date.now();
  let text = '';
  socket.on('data', (d) => (text += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - openedAt)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
  return { socket, received: () => text, closed };
}

/** Resolves with `value` after `ms`, to race against an event that should come first. */
const after = <T>(ms: number, value: T) => new Promise<T>((r) => setTimeout(() => r(value), ms).unref());

const head = (path: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${ADMIN.Authorization}\r\nContent-Type: text/csv\r\nContent-Length: ${length}\r\n\r\n`;

const uploadsLeft = async () => Number((await deps.orm.em.getConnection().execute<Array<{ n: string }>>(`select count(*) as n from uploads`))[0]!.n);

describe('slow clients (issue 15 item 6)', () => {
  it('the server has no wall-clock cap on a request (Node’s 300 s requestTimeout is off); headers are bounded by the idle timeout', () => {
    expect(api.server).toMatchObject({ requestTimeout: 0, headersTimeout: IDLE_MS, timeout: IDLE_MS, maxConnections: MAX_CONNECTIONS });
  });

  it('an upload that trickles in for several idle timeouts, never pausing that long, is accepted', async () => {
    const csv = `email,course_name,name\n${Array.from({ length: 20 }, (_, i) => `s${i}@x.edu,Art,S${i}`).join('\n')}\n`;
    const { socket, received, closed } = await open();
    const started = Date.now();
    socket.write(head('/api/v1/admin/imports', Buffer.byteLength(csv)));
    // A piece every IDLE_MS / 4, for about 3.5 idle timeouts in all.
    const pieces = 14;
    const size = Math.ceil(csv.length / pieces);
    for (let at = 0; at < csv.length; at += size) {
      socket.write(csv.slice(at, at + size));
      await sleep(IDLE_MS / 4);
    }
    await waitFor(() => `the answer (received: ${JSON.stringify(received())})`, () => received().includes('\r\n\r\n{'), { timeoutMs: 10_000, everyMs: 20 });
    expect(Date.now() - started).toBeGreaterThan(3 * IDLE_MS);
    expect(received()).toMatch(/^HTTP\/1\.1 202 /);
    socket.end();
    await closed;
  });

  it('an upload whose client stops sending is cut after the idle timeout, and its partial file is deleted', async () => {
    const before = await uploadsLeft();
    const { socket, closed } = await open();
    socket.write(head('/api/v1/admin/imports', 1_000_000));
    socket.write('email,course_name\na@x.edu,Art\n');
    // Then nothing: the server must not wait 300 s (or forever).
    const closedAfter = await Promise.race([closed, after(IDLE_MS * 6, -1)]);
    expect(closedAfter).toBeGreaterThan(0);
    expect(closedAfter).toBeGreaterThanOrEqual(IDLE_MS * 0.9);
    socket.destroy();
    await waitFor('the partial upload to be deleted', async () => (await uploadsLeft()) <= before, { timeoutMs: 5_000 });
    expect(await uploadsLeft()).toBe(before);
  });

  it('a slow-loris client sending its headers a byte at a time is cut once the idle timeout has passed since it connected', async () => {
    const { socket, closed } = await open();
    const headers = `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'a'.repeat(1_000)}\r\n\r\n`;
    let stop = false;
    void closed.then(() => (stop = true));
    void (async () => {
      for (let i = 0; i < headers.length && !stop; i++) {
        socket.write(headers[i]!);
        await sleep(50);
      }
    })();
    const closedAfter = await Promise.race([closed, after(IDLE_MS * 6, -1)]);
    expect(closedAfter).toBeGreaterThan(0);
    stop = true;
    socket.destroy();
  });

  it(`at most ${MAX_CONNECTIONS} connections are open at once: one more is closed at once, and the service still answers once they go`, async () => {
    const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => open()));
    for (const c of held) c.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n'); // never finished
    const extra = connect(port, '127.0.0.1');
    extra.on('error', () => {});
    const extraClosed = new Promise<boolean>((resolve) => extra.once('close', () => resolve(true)));
    expect(await Promise.race([extraClosed, after(IDLE_MS / 2, false)])).toBe(true);
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    let status = 0;
    await waitFor(() => `the service to answer again (last status ${status})`, async () => {
      status = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);
      return status === 200;
    }, { timeoutMs: 5_000 });
    expect(status).toBe(200);
  });
});
