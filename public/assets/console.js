// The operator console: the token, the navigation, hash routes (deep links an operator can paste
// into a ticket) and the count of held syncs in the page title. Each page lives in its own module.
import { ApiError, getJson, token } from './api.js';
import { clearError, initImport, showError } from './admin.js';
import { viewSignal } from './dom.js';
import { showJob, showJobs } from './jobs-view.js';
import { showCourse, showCourses, showStudent, showStudents } from './people-view.js';

const $ = (id) => document.getElementById(id);
const BASE_TITLE = 'Enrollment service';

/** Routes: `#/jobs`, `#/jobs/{id}`, `#/import`, `#/students`, `#/students/{id}`, `#/courses`, `#/courses/{id}`; `?…` after them for filters. */
const ROUTES = [
  [/^\/jobs\/([0-9a-f-]{36})$/i, 'jobs', (m, q, g) => showJob(m[1], q, g)],
  [/^\/jobs$/, 'jobs', (m, q, g) => showJobs(q, g)],
  [/^\/import$/, 'import', null],
  [/^\/students\/(\d{1,15})$/, 'students', (m, q, g) => showStudent(Number(m[1]), q, g)],
  [/^\/students$/, 'students', (m, q, g) => showStudents(q, g)],
  [/^\/courses\/(\d{1,15})$/, 'courses', (m, q, g) => showCourse(Number(m[1]), q, g)],
  [/^\/courses$/, 'courses', (m, q, g) => showCourses(q, g)],
];

let pageTitle = 'Jobs';
let held = 0;
/** Incremented on each navigation: a page still loading for an older route draws nothing. */
export let generation = 0;

/** The title: the page's own, and the number of syncs held for approval first, so that it shows in the tab. */
export function setTitle(title) {
  pageTitle = title;
  document.title = `${held ? `(${held} held) ` : ''}${pageTitle} · ${BASE_TITLE}`;
}

/** Moves the focus to the page's heading, so that a screen reader announces the new page. */
export function focusHeading() {
  // Not when the operator is already in the new page (typing in its search box as it loads).
  const active = document.activeElement;
  if (active && active !== document.body && ($('view').contains(active) || $('view-import').contains(active)) && !active.matches('h2')) return;
  const heading = document.querySelector('#view h2, #view-import:not([hidden]) h2');
  heading?.setAttribute('tabindex', '-1');
  heading?.focus({ preventScroll: false });
}

function parseHash() {
  const raw = decodeURIComponent(location.hash.replace(/^#/, '')) || '/jobs';
  const [path, search = ''] = raw.split('?');
  return { path: path.replace(/\/+$/, '') || '/jobs', query: new URLSearchParams(search) };
}

async function route() {
  const gen = ++generation;
  clearError();
  const { path, query } = parseHash();
  const found = ROUTES.map(([re, view, show]) => [re.exec(path), view, show]).find(([m]) => m);
  for (const a of document.querySelectorAll('.console-nav a')) {
    if (found && a.dataset.view === found[1]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const isImport = found?.[1] === 'import';
  $('view-import').hidden = !isImport;
  $('view').hidden = isImport;
  $('skip').href = location.hash || '#/jobs';
  if (!token.get()) return; // the token card asks first; route() runs again once it is set
  if (!found) {
    $('view').replaceChildren(Object.assign(document.createElement('h2'), { textContent: 'No such page' }));
    setTitle('No such page');
    return;
  }
  if (isImport) {
    viewSignal();
    setTitle('Import');
    focusHeading();
    return;
  }
  try {
    await found[2](found[0], query, gen);
    if (!stale(gen)) focusHeading();
  } catch (err) {
    if (gen === generation) showError(err);
  }
}

/** Whether a navigation happened since `gen` (a slow page then draws nothing). */
export const stale = (gen) => gen !== generation;

/** Navigates to a console route (`/jobs/…`), adding it to the history. */
export function go(path) {
  location.hash = `#${path}`;
}

let heldTimer = null;
/** The count of held syncs, every 10 s: in the title and as a badge on "Jobs". */
async function pollHeld() {
  clearTimeout(heldTimer);
  if (!token.get()) return;
  try {
    const page = await getJson('api/v1/jobs?status=awaiting_approval&limit=100');
    held = page.items.length;
    const badge = $('held-badge');
    badge.hidden = held === 0;
    badge.textContent = `${held}${page.next_cursor ? '+' : ''} held`;
    setTitle(pageTitle);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showError(err);
  }
  heldTimer = setTimeout(pollHeld, 10_000);
}

/** Asks for the count of held syncs now (after an approve or reject). */
export const refreshHeld = () => pollHeld();

window.addEventListener('hashchange', route);
initImport((fromForm) => {
  pollHeld();
  route().then(() => fromForm && focusHeading());
});
if (!token.get()) route();
