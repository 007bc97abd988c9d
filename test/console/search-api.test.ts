import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import type { Deps } from '../../src/process/deps.js';
import { SCAN_WINDOW } from '../../src/students/student-search.repository.js';
import { createTestDeps, truncateAll } from '../support/deps.js';
import { READER } from '../support/env.js';
import { seeder } from '../support/seed.js';

/**
 * `GET /students?q=` (CONTRACT §4: a case-insensitive part of the name or the email) and
 * `GET /courses?q=`, `GET /courses/{id}` (issue 17), against real PostgreSQL.
 */

let deps: Deps;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  deps = await createTestDeps();
  app = createApp(deps);
});
beforeEach(() => truncateAll(deps));
afterAll(() => deps.close());

const { sql, student, course, enroll } = seeder(() => deps);
type Page = { items: Array<{ id: number; name: string; email: string }>; next_cursor: string | null };

const get = (path: string) => app.request(`/api/v1${path}`, { headers: READER });
async function getJson(path: string): Promise<Page> {
  const res = await get(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json() as Promise<Page>;
}
const namesOf = (page: Page) => page.items.map((s) => s.name);

/** Every page from the first, following next_cursor; the pages and their ids in order. */
async function allPages(path: string, limit: number) {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const page = await getJson(`${path}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor && pages.length < 2000);
  return { pages, ids: pages.flatMap((p) => p.items.map((s) => s.id)) };
}

/** The ids of the students whose name or email holds `part` (any case), computed in JavaScript. */
async function expectedIds(part: string): Promise<number[]> {
  const rows = await sql<{ id: string; name: string; email: string }>('select id, name, email from students order by id');
  const p = part.toLowerCase();
  return rows.filter((r) => r.name.toLowerCase().includes(p) || r.email.toLowerCase().includes(p)).map((r) => Number(r.id));
}

describe('GET /students?q=: a part of the name or the email, any case', () => {
  it('matches a part of the name or of the email, whatever its case, non-ASCII letters included', async () => {
    await student('Ada Lovelace', 'ada@uni.edu');
    await student('Jürgen Müller', 'JMUELLER@Physics.Uni.edu');
    await student('Alan Turing', 'alan@math.org');
    expect(namesOf(await getJson('/students?q=LOVE'))).toEqual(['Ada Lovelace']);
    expect(namesOf(await getJson('/students?q=müller'))).toEqual(['Jürgen Müller']);
    expect(namesOf(await getJson('/students?q=MÜLL'))).toEqual(['Jürgen Müller']);
    expect(namesOf(await getJson('/students?q=physics.uni'))).toEqual(['Jürgen Müller']);
    expect(namesOf(await getJson('/students?q=uni.edu'))).toEqual(['Ada Lovelace', 'Jürgen Müller']);
    expect(namesOf(await getJson('/students?q=a'))).toEqual(['Ada Lovelace', 'Alan Turing']);
    expect(namesOf(await getJson('/students?q=%20%20turing%20'))).toEqual(['Alan Turing']); // trimmed
    expect(namesOf(await getJson('/students?q=nobody-has-this'))).toEqual([]);
    expect((await getJson('/students?q=zz')).next_cursor).toBeNull();
  });

  it('takes %, _ and \\ as themselves, not as wildcards', async () => {
    await student('Percent 100% Sure', 'p@x.org');
    await student('Under_Score', 'u@x.org');
    await student('Back\\slash', 'b@x.org');
    await student('Plain Name', 'plain@x.org');
    expect(namesOf(await getJson('/students?q=%25'))).toEqual(['Percent 100% Sure']);
    expect(namesOf(await getJson('/students?q=_'))).toEqual(['Under_Score']);
    expect(namesOf(await getJson('/students?q=r_s'))).toEqual(['Under_Score']);
    expect(namesOf(await getJson('/students?q=%5C'))).toEqual(['Back\\slash']);
    expect(namesOf(await getJson('/students?q=0%25%20s'))).toEqual(['Percent 100% Sure']);
  });

  it('combines with email, course_name and active', async () => {
    const math = await course('Mathematics 101');
    const art = await course('Art 100');
    const ada = await student('Ada Lovelace', 'ada@uni.edu');
    const adam = await student('Adam Smith', 'adam@uni.edu');
    const adele = await student('Adele Adkins', 'adele@uni.edu');
    await student('Bob Ross', 'bob@uni.edu');
    await enroll(ada, math, true);
    await enroll(adam, math, false);
    await enroll(adele, art, true);
    expect(namesOf(await getJson('/students?q=ad&course_name=mathematics%20101'))).toEqual(['Ada Lovelace', 'Adam Smith']);
    expect(namesOf(await getJson('/students?q=ad&course_name=Mathematics%20101&active=false'))).toEqual(['Adam Smith']);
    expect(namesOf(await getJson('/students?q=ada&active=true'))).toEqual(['Ada Lovelace']);
    expect(namesOf(await getJson('/students?q=uni&active=false'))).toEqual(['Adam Smith', 'Bob Ross']);
    expect(namesOf(await getJson('/students?q=lovelace&email=ADA@uni.edu'))).toEqual(['Ada Lovelace']);
    expect(namesOf(await getJson('/students?q=smith&email=ada@uni.edu'))).toEqual([]);
    expect(namesOf(await getJson(`/courses/${math}/students?active=true`))).toEqual(['Ada Lovelace']); // untouched
  });

  it('pages through many students in id order, with nothing repeated or skipped, whichever way it searches', async () => {
    // Three times the window: a common part fills pages from the window, a rare one is found
    // through the trigram index past it, and a short one goes on window by window.
    const n = SCAN_WINDOW * 3;
    await sql(`insert into students (name, email) select 'Student ' || i || case when i % 997 = 0 then ' Zanzibar' else '' end, 's' || i || '@example.org' from generate_series(1, ?) i`, [n]);
    await sql(`insert into students (name, email) values ('Last Zanzibar', 'zz-last@example.org')`);
    await sql('analyze students');

    const common = await allPages('/students?q=student%201', 500); // "Student 1…": 1 in 9 or so
    expect(common.ids).toEqual(await expectedIds('student 1'));

    const rare = await allPages('/students?q=zanzib', 7);
    expect(rare.ids).toEqual(await expectedIds('zanzib'));
    expect(rare.ids.length).toBe(Math.floor(n / 997) + 1);
    expect(rare.pages.every((p, i) => i === rare.pages.length - 1 || p.items.length === 7), 'index pages are full').toBe(true);

    // "zz" cannot use the index: pages may be short, even empty, but their cursors reach the end.
    const short = await allPages('/students?q=zz', 50);
    expect(short.ids).toEqual(await expectedIds('zz'));
    expect(short.pages.length).toBeGreaterThanOrEqual(3);
    expect(short.pages.some((p) => p.items.length === 0 && p.next_cursor !== null)).toBe(true);
    expect(short.pages.at(-1)!.next_cursor).toBeNull();

    const none = await allPages('/students?q=qqxxqq', 50);
    expect(none.ids).toEqual([]);
    expect(none.pages).toHaveLength(1);
  });

  it('a course roster filtered by a part, across pages', async () => {
    const big = await course('Big Course');
    await sql(`insert into students (name, email) select 'Member ' || i, 'm' || i || '@example.org' from generate_series(1, 2000) i`);
    await sql(`insert into course_enrollments (student_id, course_id, active) select id, ?, id % 2 = 0 from students`, [big]);
    const { ids } = await allPages('/students?q=member%2019&course_name=big%20course&active=true', 4);
    const expected = (await expectedIds('member 19')).filter((id) => id % 2 === 0);
    expect(ids).toEqual(expected);
  });

  it('still answers without the trigram index (pg_trgm missing), reading students in id order', async () => {
    await sql(`insert into students (name, email) select 'Person ' || i || case when i = ? then ' Quixote' else '' end, 'p' || i || '@example.org' from generate_series(1, ?) i`, [SCAN_WINDOW + 5, SCAN_WINDOW * 2]);
    await sql('drop index students_search_trgm_idx');
    const without = await createTestDeps(); // it asks afresh whether the index exists
    try {
      const plain = createApp(without);
      const pages: Page[] = [];
      let cursor = '';
      do {
        const res = await plain.request(`/api/v1/students?q=quixote${cursor ? `&cursor=${cursor}` : ''}`, { headers: READER });
        expect(res.status).toBe(200);
        const page = (await res.json()) as Page;
        pages.push(page);
        cursor = page.next_cursor ?? '';
      } while (cursor);
      expect(pages.flatMap(namesOf)).toEqual([`Person ${SCAN_WINDOW + 5} Quixote`]);
      expect(pages[0]!.items).toEqual([]); // the first window held nobody: a short page that goes on
    } finally {
      await without.close();
      await sql('create index students_search_trgm_idx on students using gin (name gin_trgm_ops, email gin_trgm_ops)');
    }
  });

  it('bad input is a 400 with the error envelope, never a 500', async () => {
    await student('Ada Lovelace', 'ada@uni.edu');
    for (const path of [`/students?q=${'x'.repeat(201)}`, '/students?q=a%00b', '/students?q=ada&cursor=nope', '/students?q=ada&limit=0', '/courses?q=%00', `/courses?q=${'y'.repeat(201)}`, '/courses?limit=5000', '/courses/abc']) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { error: { code: string; details: Array<{ field: string }> } };
      expect(body.error.code, path).toBe('invalid');
      expect(body.error.details.length, path).toBeGreaterThan(0);
    }
    expect((await get(`/students?q=${'x'.repeat(200)}`)).status).toBe(200);
    expect((await get('/students?q=')).status).toBe(200); // empty: absent
    expect((await app.request('/api/v1/students?q=ada')).status).toBe(401);
  });
});

describe('GET /courses?q= and GET /courses/{id}: a course by a part of its name, with its size', () => {
  it('finds courses by any-case part of the name, with their active and inactive enrollments, paged', async () => {
    const physics = await course('Physics 201');
    const astro = await course('Astrophysics 300');
    const art = await course('Art 100');
    const [a, b, c] = [await student('A', 'a@x.org'), await student('B', 'b@x.org'), await student('C', 'c@x.org')];
    await enroll(a, physics, true);
    await enroll(b, physics, true);
    await enroll(c, physics, false);
    await enroll(a, art, false);
    const page = (await (await get('/courses?q=PHYSICS')).json()) as { items: unknown[]; next_cursor: string | null };
    expect(page).toEqual({
      items: [
        { id: physics, name: 'Physics 201', created_at: expect.any(String), size: { active: 2, inactive: 1 } },
        { id: astro, name: 'Astrophysics 300', created_at: expect.any(String), size: { active: 0, inactive: 0 } },
      ],
      next_cursor: null,
    });
    const first = (await (await get('/courses?q=s&limit=1')).json()) as { items: Array<{ id: number }>; next_cursor: string };
    expect(first.items.map((x) => x.id)).toEqual([physics]);
    const second = (await (await get(`/courses?q=s&limit=1&cursor=${first.next_cursor}`)).json()) as { items: Array<{ id: number }>; next_cursor: string | null };
    expect(second.items.map((x) => x.id)).toEqual([astro]);
    expect(((await (await get('/courses')).json()) as { items: unknown[] }).items).toHaveLength(3);
    expect(((await (await get('/courses?q=50%25')).json()) as { items: unknown[] }).items).toEqual([]);

    expect(await (await get(`/courses/${art}`)).json()).toEqual({ id: art, name: 'Art 100', created_at: expect.any(String), size: { active: 0, inactive: 1 } });
    const missing = await get('/courses/999999');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});
