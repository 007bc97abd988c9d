// The console's student and course pages: search, a student's enrollments and history, a course's
// roster and size. Every list is a page of the API at a time (fast with a million students).
import { getJson, queryOf } from './api.js';
import { go, setTitle, stale } from './console.js';
import { facts, fill, h, link, pager, table, viewSignal } from './dom.js';
import { CHANGE_KINDS, count, when } from './format.js';

const PAGE = 50;

/** A search form whose submit navigates (so that the search has its own deep link). */
function searchForm(id, label, value, hint, route) {
  const input = h('input', { id, name: 'q', type: 'search', value, autocomplete: 'off', spellcheck: false, 'aria-describedby': `${id}-hint` });
  return h(
    'form',
    { role: 'search', class: 'search', onsubmit: (e) => { e.preventDefault(); go(`${route}${queryOf({ q: input.value.trim() })}`); } },
    h('label', { for: id }, label),
    h('div', { class: 'row' }, input, h('button', { type: 'submit' }, 'Search')),
    h('p', { id: `${id}-hint`, class: 'hint' }, hint),
  );
}

const enrollmentsText = (s) => s.enrollments.filter((e) => e.active).map((e) => e.course_name).join(', ') || 'none active';

// ---- students --------------------------------------------------------------------------------

/** `#/students?q=`: students whose name or email holds q, a page at a time. */
export async function showStudents(query, gen) {
  const signal = viewSignal();
  const q = query.get('q') ?? '';
  setTitle(q ? `Students: ${q}` : 'Students');
  const results = h('div', { id: 'students-results', 'aria-live': 'polite' });
  const note = h('p', { class: 'hint', id: 'students-note' });
  const list = pager(
    (cursor) => getJson(`api/v1/students${queryOf({ q, cursor, limit: PAGE })}`, { signal }),
    (page) => {
      if (stale(gen)) return;
      fill(results, table(q ? `Students matching ${q}` : 'Students', ['Name', 'Email', 'Active courses'], page.items.map((s) => [
        link(`/students/${s.id}`, s.name, `Open ${s.name} (${s.email})`), s.email, enrollmentsText(s),
      ]), { id: 'students-table', empty: page.next_cursor ? 'No match in this part of the students: go on with "Next page".' : 'No student matches.' }));
      // A part shorter than three letters is searched a bounded slice at a time: a page may be short.
      note.textContent = page.next_cursor && page.items.length < PAGE ? 'This page is short: the search read part of the students; "Next page" goes on.' : '';
    },
    { label: 'page of students' },
  );
  fill('view',
    h('h2', { id: 'view-title' }, 'Students'),
    h('section', { class: 'card', 'aria-labelledby': 'view-title' },
      searchForm('student-q', 'Name or email contains', q, 'Any part, any case: "lovelace", "ada@", "uni.edu".', '/students'),
      results, note, list.el));
  await list.reload();
}

/** `#/students/{id}`: a student, their enrollments with sources, and their history with links to the jobs. */
export async function showStudent(id, query, gen) {
  const signal = viewSignal();
  const s = await getJson(`api/v1/students/${id}`, { signal });
  if (stale(gen)) return;
  setTitle(`${s.name} (student)`);
  const history = h('div');
  const historyPager = pager(
    (cursor) => getJson(`api/v1/students/${id}/history${queryOf({ cursor, limit: PAGE })}`, { signal }),
    (page) => fill(history, table('History, newest first', ['When', 'Change', 'Course', 'Before', 'After', 'Job', 'Line'], page.items.map((x) => [
      when(x.at),
      CHANGE_KINDS[x.kind] ?? x.kind,
      x.course_id ? link(`/courses/${x.course_id}`, x.course_name ?? `#${x.course_id}`) : '',
      String(x.before ?? '—'), String(x.after ?? '—'),
      link(`/jobs/${x.job_id}`, `${x.job_type} ${x.job_id.slice(0, 8)}`, `Open the ${x.job_type} job ${x.job_id} that made this change`),
      x.line ?? '',
    ]), { id: 'history-table', empty: 'No recorded change (history is kept as long as its job).' })),
    { label: 'page of history' },
  );
  fill('view',
    h('p', { class: 'crumbs' }, link('/students', 'Students')),
    h('h2', { id: 'view-title' }, s.name),
    h('section', { class: 'card', 'aria-labelledby': 'student-facts' },
      h('h3', { id: 'student-facts', class: 'visually-hidden' }, 'Student'),
      facts([['Email', s.email, 'email'], ['Id', String(s.id)], ['Current course', s.course_name ?? 'none', 'course']], 'student')),
    h('section', { class: 'card', 'aria-labelledby': 'enrollments-title' },
      h('h3', { id: 'enrollments-title' }, 'Enrollments'),
      table('Enrollments, earliest first', ['Course', 'Status', 'Source'], s.enrollments.map((e) => [
        link(`/courses/${e.course_id}`, e.course_name), e.active ? 'Active' : 'Inactive', e.source ?? 'by hand (no source)',
      ]), { id: 'enrollments-table', empty: 'No enrollment.' })),
    h('section', { class: 'card', 'aria-labelledby': 'history-title' }, h('h3', { id: 'history-title' }, 'History'), history, historyPager.el));
  await historyPager.reload();
}

// ---- courses ---------------------------------------------------------------------------------

/** `#/courses?q=`: courses whose name holds q, with their size. */
export async function showCourses(query, gen) {
  const signal = viewSignal();
  const q = query.get('q') ?? '';
  setTitle(q ? `Courses: ${q}` : 'Courses');
  const results = h('div', { 'aria-live': 'polite' });
  const list = pager(
    (cursor) => getJson(`api/v1/courses${queryOf({ q, cursor, limit: PAGE })}`, { signal }),
    (page) => !stale(gen) && fill(results, table('Courses', ['Course', 'Active', 'Inactive'], page.items.map((c) => [
      link(`/courses/${c.id}`, c.name), count(c.size.active), count(c.size.inactive),
    ]), { id: 'courses-table', empty: 'No course matches.' })),
    { label: 'page of courses' },
  );
  fill('view',
    h('h2', { id: 'view-title' }, 'Courses'),
    h('section', { class: 'card', 'aria-labelledby': 'view-title' },
      searchForm('course-q', 'Course name contains', q, 'Any part, any case: "physics", "101".', '/courses'), results, list.el));
  await list.reload();
}

/** `#/courses/{id}?active=true|false`: a course, its size and its roster. */
export async function showCourse(id, query, gen) {
  const signal = viewSignal();
  const c = await getJson(`api/v1/courses/${id}`, { signal });
  if (stale(gen)) return;
  const active = ['true', 'false'].includes(query.get('active')) ? query.get('active') : 'true';
  setTitle(`${c.name} (course)`);
  const roster = h('div');
  const rosterPager = pager(
    (cursor) => getJson(`api/v1/courses/${id}/students${queryOf({ active: active === 'all' ? '' : active, cursor, limit: PAGE })}`, { signal }),
    (page) => fill(roster, table('Roster', ['Name', 'Email', 'In this course'], page.items.map((s) => [
      link(`/students/${s.id}`, s.name, `Open ${s.name} (${s.email})`), s.email,
      s.enrollments.find((e) => e.course_id === id)?.active ? 'Active' : 'Inactive',
    ]), { id: 'roster-table', empty: 'Nobody.' })),
    { label: 'page of the roster' },
  );
  const radio = (value, label) => h('label', {}, h('input', { type: 'radio', name: 'roster-active', value, checked: value === active, onchange: () => go(`/courses/${id}?active=${value}`) }), ` ${label}`);
  fill('view',
    h('p', { class: 'crumbs' }, link('/courses', 'Courses')),
    h('h2', { id: 'view-title' }, c.name),
    h('section', { class: 'card', 'aria-labelledby': 'course-size' },
      h('h3', { id: 'course-size' }, 'Size'),
      facts([['Active enrollments', count(c.size.active), 'active'], ['Inactive enrollments', count(c.size.inactive), 'inactive'], ['Created', when(c.created_at)]], 'course')),
    h('section', { class: 'card', 'aria-labelledby': 'roster-title' },
      h('h3', { id: 'roster-title' }, 'Roster'),
      h('fieldset', { class: 'inline' }, h('legend', {}, 'Show'), radio('true', 'active'), radio('false', 'inactive')),
      roster, rosterPager.el));
  await rosterPager.reload();
}
