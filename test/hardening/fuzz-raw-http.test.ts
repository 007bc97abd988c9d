import fc from 'fast-check';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../src/process/deps.js';
import { startApi } from '../../src/process/server.js';
import { createTestDeps, truncateAll } from '../support/deps.js';
import { ADMIN, testConfig } from '../support/env.js';
import { freePort } from '../support/processes.js';

/**
 * Issue 15, "go further": bytes on the wire that are not quite HTTP, against a real server. What
 * Node's HTTP parser refuses before the app sees it must still be the error envelope (not an empty
 * 400), and nothing may bring the server down.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

let deps: Deps;
let api: Awaited<ReturnType<typeof startApi>>;
let port: number;
beforeAll(async () => {
  port = await freePort();
  deps = await createTestDeps('api', testConfig({ PORT: String(port), HTTP_IDLE_TIMEOUT_MS: '1000' }));
  await truncateAll(deps);
  api = await startApi(deps);
});
afterAll(async () => {
  await api?.close();
  await truncateAll(deps);
  await deps?.close();
});

/** Sends raw bytes, half-closes, and collects whatever comes back until the server closes. */
function exchange(bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(text));
    socket.on('connect', () => socket.end(bytes));
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
}

/** Each HTTP answer in `text`: its status, its Content-Type and its body (Content-Length framed). */
function answers(text: string): Array<{ status: number; type: string | null; body: string }> {
  const out = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const head = rest.slice(0, end);
    const status = Number(head.slice(9, 12));
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    const type = /\r\ncontent-type: *([^\r]+)/i.exec(head)?.[1] ?? null;
    out.push({ status, type, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

const token = fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'G\u0000T', 'GET /', '/api/v1/students', '/healthz', ' ', '\r\n', '\n', ':', 'HTTP/1.1', 'HTTP/9.9', 'Host: x', 'Content-Length: 5', 'Content-Length: -1', 'Content-Length: 99999999999999999999', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked, identity', '0\r\n\r\n', 'zz\r\n', `Authorization: ${ADMIN.Authorization}`, 'Expect: 100-continue', 'Upgrade: websocket', '\u00ff', '\u0001', 'X: '.padEnd(20_000, 'a'));
const request = fc.oneof(
  fc.array(token, { maxLength: 12 }).map((t) => Buffer.from(t.join(''), 'latin1')),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.tuple(fc.constantFrom('GET', 'POST'), fc.uint8Array({ maxLength: 60 }), fc.array(token, { maxLength: 4 })).map(([m, path, headers]) =>
    Buffer.concat([Buffer.from(`${m} /`), Buffer.from(path), Buffer.from(` HTTP/1.1\r\nHost: x\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1')]),
  ),
);

describe('malformed HTTP on the wire (issue 15 fuzzing)', () => {
  it('every answer is below 500, and every 4xx is the JSON error envelope; the server lives on', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (bytes) => {
        const text = await exchange(bytes);
        for (const a of answers(text)) {
          expect(a.status, text.slice(0, 200)).toBeLessThan(500);
          if (a.status >= 400) {
            expect(a.type, text.slice(0, 300)).toMatch(/application\/json/);
            expect(JSON.parse(a.body)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
          }
        }
      }),
      { numRuns: RUNS },
    );
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it.each([
    ['a request line that is not HTTP', 'hello\r\n\r\n', 400],
    ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost x\r\n\r\n', 400],
    ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('%s: %s with the envelope', async (_label, raw, status) => {
    const [a] = answers(await exchange(Buffer.from(raw)));
    expect(a).toMatchObject({ status, type: expect.stringMatching(/application\/json/) });
    expect(JSON.parse(a!.body)).toMatchObject({ error: { code: status === 431 ? 'too_large' : 'invalid' } });
  });
});
