import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/http/app.js';
import type { Deps } from '../../src/process/deps.js';
import { createTestDeps, truncateAll } from '../support/deps.js';
import { send } from '../support/jobs.js';

/**
 * Issue 15 item 1: text fields of JSON writes refuse NUL and the other control characters (tab,
 * line feed and carriage return aside) with a 400 naming the field, and one bad request never
 * fails another (accepted writes are group-committed in one INSERT).
 */

let deps: Deps;
let app: App;
beforeAll(async () => {
  deps = await createTestDeps();
  await truncateAll(deps);
  app = createApp(deps);
});
afterAll(async () => {
  await truncateAll(deps);
  await deps.close();
});

const BAD = ['\u0000', '\u0001', '\u001b', '\u007f', '\u0085', '\ud800', '\udc00'];
const good = { email: 'ana@example.edu', name: 'Ana', course_name: 'Art 100' };

/** Every write route, each with its text fields, as a request with `field` set to `value`. */
const writes: Array<[string, string, string, (field: string, value: string) => unknown, string[]]> = [
  ['POST', '/admin/enrollments', '', (f, v) => ({ ...good, [f]: v }), ['email', 'name', 'course_name']],
  ['POST', '/admin/students', '', (f, v) => ({ ...good, [f]: v }), ['email', 'name', 'course_name']],
  ['PUT', '/admin/students/1', '', (f, v) => ({ [f]: v }), ['email', 'name', 'course_name']],
  ['POST', '/admin/enrollments/batch', 'commands.1.', (f, v) => ({ commands: [good, { ...good, [f]: v }] }), ['email', 'name', 'course_name']],
];

describe('text fields refuse control characters (issue 15 item 1)', () => {
  beforeAll(async () => {
    // PUT needs a student 1.
    await deps.orm.em.getConnection().execute(`insert into students (id, name, email) values (1, 'Bo', 'bo@example.edu') on conflict do nothing`);
  });

  for (const [method, path, prefix, body, fields] of writes) {
    it(`${method} ${path}: each text field with NUL, another C0/C1 control, DEL or an unpaired surrogate is a 400 naming it`, async () => {
      for (const field of fields) {
        for (const bad of BAD) {
          const res = await send(app, method, path, body(field, `a${bad}b@x.edu`));
          expect(res.status, `${field} ${JSON.stringify(bad)}`).toBe(400);
          expect(res.body.error).toMatchObject({ code: 'invalid', message: expect.stringContaining(`${prefix}${field}`) });
          expect(res.body.error.details[0]).toMatchObject({ field: `${prefix}${field}`, message: expect.stringMatching(/control character|surrogate/) });
        }
      }
    });
  }

  it('tab, line feed and carriage return in a name are fine', async () => {
    const res = await send(app, 'POST', '/admin/enrollments', { ...good, name: 'Ana\tMaría\r\nLee' });
    expect(res.status).toBe(202);
  });

  it('one bad request sent with 30 good ones fails alone: the 30 are accepted and stored', async () => {
    const bodies = Array.from({ length: 31 }, (_, i) => ({ email: `s${i}@example.edu`, name: i === 15 ? 'a\u0000b' : `S${i}`, course_name: 'Art' }));
    const answers = await Promise.all(bodies.map((b) => send(app, 'POST', '/admin/enrollments', b)));
    expect(answers.map((a) => a.status)).toEqual(bodies.map((_, i) => (i === 15 ? 400 : 202)));
    const ids = answers.filter((a) => a.status === 202).map((a) => a.body.job_id);
    const rows = await deps.orm.em.getConnection().execute(`select count(*)::int as n from jobs where id = any(?::uuid[])`, [`{${ids.join(",")}}`]);
    expect(rows[0]!.n).toBe(30);
  });
});
