import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import { createApp } from '../src/http/app.js';
import { encodeCursor } from '../src/http/pagination.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { seeder } from './support/seed.js';
import { ADMIN, READER } from './support/env.js';

let deps: Deps;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  deps = await createTestDeps();
  app = createApp(deps);
});
beforeEach(() => truncateAll(deps));
afterAll(() => deps.close());

// Seeding with plain SQL: the reads must not depend on the write path.
const { sql, student, course, enroll } = seeder(() => deps);
const manyStudents = (count: number) =>
  sql(`insert into students (name, email) select 'student-' || n, 's' || n || '@example.org' from generate_series(1, ?) n`, [count]);

const get = (path: string, headers: Record<string, string> = READER) => app.request(`/api/v1${path}`, { headers });
const getJson = async (path: string) => {
  const res = await get(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
};
const emailsOf = (page: { items: Array<{ email: string }> }) => page.items.map((s) => s.email);

/** Follows next_cursor from the first page to the last; returns every page. */
async function allPages(path: string, limit: number) {
  const pages: Array<{ items: Array<{ id: number }>; next_cursor: string | null }> = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await getJson(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor && pages.length < 1000);
  return pages;
}

describe('GET /students/{id}: the student shape (CONTRACT §4 Reads)', () => {
  it('a student without enrollments has null course fields, no enrollments and null team fields', async () => {
    const id = await student('Ada Lovelace', 'Ada@Example.org');
    expect(await getJson(`/students/${id}`)).toEqual({
      id,
      name: 'Ada Lovelace',
      email: 'Ada@Example.org',
      course_id: null,
      course_name: null,
      enrollments: [],
      team_id: null,
      team_name: null,
      team_number: null,
    });
  });

  it('course_* is the active enrollment; enrollments lists all of them, earliest-created first', async () => {
    const id = await student('Ada', 'ada@example.org');
    const [math, physics] = [await course('Math'), await course('Physics')];
    await enroll(id, physics, true, '2026-02-01T00:00:00Z');
    await enroll(id, math, false, '2026-01-01T00:00:00Z');
    const body = await getJson(`/students/${id}`);
    expect(body).toMatchObject({ course_id: physics, course_name: 'Physics', team_id: null });
    expect(body.enrollments).toEqual([
      { course_id: math, course_name: 'Math', active: false, source: null },
      { course_id: physics, course_name: 'Physics', active: true, source: null },
    ]);
  });

  it('with several active enrollments, course_* is the earliest-created one', async () => {
    const id = await student('Ada', 'ada@example.org');
    const [late, early] = [await course('Late'), await course('Early')];
    // Inserted in the other order, so the row id alone would pick the wrong one.
    await enroll(id, late, true, '2026-03-01T00:00:00Z');
    await enroll(id, early, true, '2026-01-01T00:00:00Z');
    expect(await getJson(`/students/${id}`)).toMatchObject({ course_id: early, course_name: 'Early' });
  });

  it('an unknown id is a 404 envelope', async () => {
    const res = await get('/students/999999');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no student with id 999999' } });
  });

  it.each(['abc', '0', '1.5', '-1', '99999999999999999999'])('id %s is a 400 naming the id', async (id) => {
    const res = await get(`/students/${id}`);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('invalid');
    expect(body.error.message).toContain('id');
    expect(body.error.details).toEqual([{ field: 'id', message: expect.any(String) }]);
  });

  it('does not shadow GET /students/teams, which stays 404', async () => {
    const res = await get('/students/teams');
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
  });

  it('the read and admin tokens may read; no token is 401', async () => {
    const id = await student('Ada', 'ada@example.org');
    expect((await get(`/students/${id}`, READER)).status).toBe(200);
    expect((await get(`/students/${id}`, ADMIN)).status).toBe(200);
    expect((await get(`/students/${id}`, {})).status).toBe(401);
    expect((await get('/students', {})).status).toBe(401);
  });
});

describe('GET /students: filters', () => {
  let ids: Record<'alice' | 'bob' | 'carol' | 'dave', number>;
  beforeEach(async () => {
    const [math, physics] = [await course('Math 101'), await course('Physics')];
    ids = {
      alice: await student('Alice', 'alice@example.org'),
      bob: await student('Bob', 'Bob@Example.org'),
      carol: await student('Carol', 'carol@example.org'),
      dave: await student('Dave', 'dave@example.org'),
    };
    await enroll(ids.alice, math, true);
    await enroll(ids.alice, physics, false);
    await enroll(ids.bob, math, false);
    await enroll(ids.carol, physics, true);
  });

  it('without filters lists every student, those without enrollments too, in id order', async () => {
    const page = await getJson('/students');
    expect(page.items.map((s: { id: number }) => s.id)).toEqual([ids.alice, ids.bob, ids.carol, ids.dave]);
    expect(page.next_cursor).toBeNull();
    expect(page.items[0]).toMatchObject({ course_name: 'Math 101', team_id: null, team_name: null, team_number: null });
  });

  it('email matches exactly, case-insensitively', async () => {
    expect(emailsOf(await getJson('/students?email=BOB@example.ORG'))).toEqual(['Bob@Example.org']);
    expect(emailsOf(await getJson('/students?email=bob'))).toEqual([]);
  });

  it('course_name (case-insensitive, trimmed) lists the students with an enrollment in that course', async () => {
    expect(emailsOf(await getJson(`/students?course_name=${encodeURIComponent('  math 101 ')}`))).toEqual([
      'alice@example.org',
      'Bob@Example.org',
    ]);
    expect(emailsOf(await getJson('/students?course_name=Nowhere'))).toEqual([]);
  });

  it('active with course_name filters on the enrollment in that course', async () => {
    expect(emailsOf(await getJson('/students?course_name=physics&active=true'))).toEqual(['carol@example.org']);
    expect(emailsOf(await getJson('/students?course_name=physics&active=false'))).toEqual(['alice@example.org']);
  });

  it('active without course_name means having any active enrollment, or none', async () => {
    expect(emailsOf(await getJson('/students?active=true'))).toEqual(['alice@example.org', 'carol@example.org']);
    expect(emailsOf(await getJson('/students?active=false'))).toEqual(['Bob@Example.org', 'dave@example.org']);
  });

  it('filters combine', async () => {
    expect(emailsOf(await getJson('/students?course_name=Math%20101&email=ALICE@example.org&active=true'))).toEqual([
      'alice@example.org',
    ]);
    expect(emailsOf(await getJson('/students?course_name=Math%20101&email=carol@example.org'))).toEqual([]);
  });

  it('empty parameters mean absent, as in ?email=&course_name=&active=&cursor=&limit=', async () => {
    const page = await getJson('/students?email=&course_name=&active=&cursor=&limit=');
    expect(page.items).toHaveLength(4);
  });
});

describe('GET /students: keyset pagination', () => {
  it('walks more than two pages with no duplicates, no gaps, and the same pages again', async () => {
    await manyStudents(23);
    const pages = await allPages('/students', 5);
    expect(pages.map((p) => p.items.length)).toEqual([5, 5, 5, 5, 3]);
    const seen = pages.flatMap((p) => p.items.map((s) => s.id));
    const all = (await sql<{ id: string }>('select id from students order by id')).map((r) => Number(r.id));
    expect(seen).toEqual(all);
    expect(pages.at(-1)!.next_cursor).toBeNull();
    expect(await allPages('/students', 5)).toEqual(pages);
  });

  it('a page is not shifted by students created or removed before it', async () => {
    await manyStudents(10);
    const first = await getJson('/students?limit=4');
    await sql(`delete from students where id = ?`, [first.items[0].id]);
    await student('Late', 'late@example.org');
    const second = await getJson(`/students?limit=4&cursor=${first.next_cursor}`);
    expect(second.items[0].id).toBe(first.items[3].id + 1);
  });

  it('defaults to 50 per page and allows up to 1000', async () => {
    await manyStudents(60);
    const page = await getJson('/students');
    expect(page.items).toHaveLength(50);
    expect(page.next_cursor).toBe(encodeCursor(page.items[49].id));
    expect((await getJson('/students?limit=1000')).items).toHaveLength(60);
  });

  it('a page that ends exactly at the last student has no next cursor', async () => {
    await manyStudents(4);
    expect((await getJson('/students?limit=4')).next_cursor).toBeNull();
  });

  it.each([
    ['limit', 'limit=abc'],
    ['limit', 'limit=0'],
    ['limit', 'limit=1001'],
    ['limit', 'limit=2.5'],
    ['active', 'active=maybe'],
    ['cursor', 'cursor=not-a-cursor'],
    ['cursor', `cursor=${Buffer.from('12abc').toString('base64url')}`],
  ])('a bad %s (%s) is a 400 envelope naming it', async (parameter, query) => {
    const res = await get(`/students?${query}`);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('invalid');
    expect(body.error.message).toContain(parameter);
    expect(body.error.details.map((d: { field: string }) => d.field)).toEqual([parameter]);
  });
});

describe('GET /courses/{id}/students: the roster', () => {
  it('lists the students enrolled in the course, filtered by that enrollment, in the student shape', async () => {
    const [math, art] = [await course('Math'), await course('Art')];
    const [a, b, c] = [await student('A', 'a@example.org'), await student('B', 'b@example.org'), await student('C', 'c@example.org')];
    await enroll(a, math, true);
    await enroll(b, math, false);
    await enroll(b, art, true);
    await enroll(c, art, true);
    expect(emailsOf(await getJson(`/courses/${math}/students`))).toEqual(['a@example.org', 'b@example.org']);
    expect(emailsOf(await getJson(`/courses/${math}/students?active=true`))).toEqual(['a@example.org']);
    const inactive = await getJson(`/courses/${math}/students?active=false`);
    expect(inactive.items).toEqual([
      {
        id: b,
        name: 'B',
        email: 'b@example.org',
        course_id: art,
        course_name: 'Art',
        enrollments: [
          { course_id: math, course_name: 'Math', active: false, source: null },
          { course_id: art, course_name: 'Art', active: true, source: null },
        ],
        team_id: null,
        team_name: null,
        team_number: null,
      },
    ]);
  });

  it('paginates like /students', async () => {
    const math = await course('Math');
    await manyStudents(11);
    await sql(`insert into course_enrollments (course_id, student_id, active) select ?, id, id % 2 = 0 from students`, [math]);
    const pages = await allPages(`/courses/${math}/students`, 3);
    expect(pages.map((p) => p.items.length)).toEqual([3, 3, 3, 2]);
    expect(new Set(pages.flatMap((p) => p.items.map((s) => s.id))).size).toBe(11);
    const active = await allPages(`/courses/${math}/students?active=true`, 2);
    expect(active.flatMap((p) => p.items.map((s) => s.id))).toEqual([2, 4, 6, 8, 10]);
  });

  it('a course without students is an empty page; an unknown course is a 404', async () => {
    const empty = await course('Empty');
    expect(await getJson(`/courses/${empty}/students`)).toEqual({ items: [], next_cursor: null });
    const res = await get('/courses/424242/students');
    expect(res.status).toBe(404);
    expect((await res.json()).error).toEqual({ code: 'not_found', message: 'no course with id 424242' });
  });

  it('a non-numeric course id or a bad query value is a 400', async () => {
    const math = await course('Math');
    for (const [path, parameter] of [
      ['/courses/math/students', 'id'],
      [`/courses/${math}/students?active=yes`, 'active'],
      [`/courses/${math}/students?limit=-3`, 'limit'],
    ] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect((await res.json()).error.details[0].field).toBe(parameter);
    }
  });
});
