// The console's job pages: the jobs list (held syncs on top) and a job's own page (status,
// progress, counts, hold, row errors, changes, and the actions that fit its state).
import { ApiError, FINISHED, SETTLED, downloadCsv, followJob, getJson, postJson, queryOf } from './api.js';
import { showError } from './admin.js';
import { go, refreshHeld, setTitle, stale } from './console.js';
import { facts, fill, h, link, pager, table, viewSignal } from './dom.js';
import { CHANGE_KINDS, COUNT_LABELS, HOLD_REASONS, STATUS_SHORT, STATUS_TEXT, count, optionsText, when } from './format.js';

const $ = (id) => document.getElementById(id);
const TYPES = ['command', 'batch', 'import', 'revert'];
const STATUSES = Object.keys(STATUS_SHORT);
const PAGE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const jobName = (job) => `${job.type}${job.file_name ? ` ${job.file_name}` : ''}`;
const statusCell = (job) =>
  h('span', { class: `status-word s-${job.status}` }, job.status === 'awaiting_approval' ? h('span', { class: 'badge' }, 'Held') : null, ' ', STATUS_SHORT[job.status] ?? job.status);
const rowsCell = (job) => {
  const { processed, total, percent } = job.progress;
  if (!FINISHED.has(job.status) && job.status !== 'awaiting_approval') return `${count(processed)} of ${total === null ? '?' : count(total)}${percent === null ? '' : ` (${percent}%)`}`;
  return `${count(job.counts.rows)}${job.counts.invalid ? ` (${count(job.counts.invalid)} invalid)` : ''}`;
};
const jobRow = (job) => [
  link(`/jobs/${job.id}`, job.id.slice(0, 8), `Open the ${job.type} job ${job.id}`),
  when(job.created_at),
  job.type,
  statusCell(job),
  job.file_name ?? '',
  optionsText(job),
  rowsCell(job),
];
const JOB_HEADERS = ['Job', 'Created', 'Type', 'Status', 'File', 'Options', 'Rows'];

// ---- the jobs list ---------------------------------------------------------------------------

/** `#/jobs?type=&status=`: every job, newest first, filtered; held syncs first. Refreshed every 3 s. */
export async function showJobs(query, gen) {
  const signal = viewSignal();
  const type = TYPES.includes(query.get('type')) ? query.get('type') : '';
  const status = STATUSES.includes(query.get('status')) ? query.get('status') : '';
  setTitle('Jobs');
  const select = (id, label, values, current, words) =>
    h('div', { class: 'field inline-field' }, h('label', { for: id }, label), h('select', { id, name: id }, h('option', { value: '' }, 'All'), values.map((v) => h('option', { value: v, selected: v === current }, words?.[v] ?? v))));
  const filters = h(
    'form',
    { class: 'row filters', 'aria-label': 'Filter the jobs', onsubmit: (e) => { e.preventDefault(); go(`/jobs${queryOf({ type: $('job-type').value, status: $('job-status').value })}`); } },
    select('job-type', 'Type', TYPES, type),
    select('job-status', 'Status', STATUSES, status, STATUS_SHORT),
    h('button', { type: 'submit', class: 'secondary small' }, 'Filter'),
  );
  const heldBox = h('section', { class: 'card held', 'aria-labelledby': 'held-title', hidden: true });
  const list = h('div', { id: 'jobs-list' });
  const jobsPager = pager(
    (cursor) => getJson(`api/v1/jobs${queryOf({ type, status, cursor, limit: PAGE })}`, { signal }),
    (page) => fill(list, table('Jobs, newest first', JOB_HEADERS, page.items.map(jobRow), { id: 'jobs-table', empty: 'No job matches.' })),
    { label: 'page of jobs' },
  );
  fill('view', h('h2', { id: 'view-title' }, 'Jobs'), heldBox, h('section', { class: 'card', 'aria-labelledby': 'view-title' }, filters, list, jobsPager.el));

  const showHeld = async () => {
    if (status && status !== 'awaiting_approval') return void (heldBox.hidden = true);
    const page = await getJson(`api/v1/jobs${queryOf({ status: 'awaiting_approval', type, limit: 100 })}`, { signal });
    heldBox.hidden = page.items.length === 0;
    fill(
      heldBox,
      h('h3', { id: 'held-title' }, h('span', { class: 'badge' }, `${page.items.length}${page.next_cursor ? '+' : ''}`), ' Held for approval'),
      h('p', { class: 'hint' }, 'These roster syncs would deactivate more than their thresholds allow. Nothing was applied: open one to look at its changes, then approve or reject it.'),
      table('Syncs held for approval', [...JOB_HEADERS, 'Would deactivate'], page.items.map((j) => [...jobRow(j), count(j.hold?.deactivations ?? 0)]), { id: 'held-table' }),
    );
  };
  await Promise.all([showHeld(), jobsPager.reload()]);
  // Live status: the list and the held syncs are read again every 3 s while the page is shown.
  const tick = async () => {
    if (signal.aborted || stale(gen)) return;
    try {
      await Promise.all([showHeld(), jobsPager.refresh()]);
    } catch (err) {
      if (!signal.aborted) return showError(err);
    }
    if (!signal.aborted) setTimeout(tick, 3000);
  };
  setTimeout(tick, 3000);
}

// ---- a job's page ----------------------------------------------------------------------------

/** `#/jobs/{id}?kind=&course_id=`: one job, followed live until it finishes. */
export async function showJob(id, query, gen) {
  const signal = viewSignal();
  let job = await getJson(`api/v1/jobs/${id}`, { signal });
  if (stale(gen)) return;
  setTitle(`${jobName(job)} ${id.slice(0, 8)}`);
  fill(
    'view',
    h('p', { class: 'crumbs' }, link('/jobs', 'All jobs')),
    h('h2', { id: 'view-title' }, `${job.type[0].toUpperCase()}${job.type.slice(1)} ${job.file_name ?? ''}`.trim(), h('span', { class: 'hint id' }, ` ${id}`)),
    h('section', { class: 'card', 'aria-labelledby': 'summary-title' },
      h('h3', { id: 'summary-title', class: 'visually-hidden' }, 'Summary'),
      h('div', { id: 'job-summary' }),
      h('div', { class: 'meter' }, h('label', { for: 'job-progress' }, 'Progress'), h('progress', { id: 'job-progress', max: 100, 'aria-describedby': 'job-progress-text' }), h('span', { id: 'job-progress-text', class: 'meter-text' })),
      h('p', { id: 'job-live', class: 'status', role: 'status', 'aria-live': 'polite' }),
      h('div', { id: 'job-error' }),
    ),
    h('section', { id: 'job-hold', class: 'card held', 'aria-labelledby': 'hold-title', hidden: true }),
    h('section', { id: 'job-actions', class: 'card', 'aria-labelledby': 'actions-title' }),
    h('section', { class: 'card', 'aria-labelledby': 'counts-title' }, h('h3', { id: 'counts-title' }, 'Counts'), h('div', { id: 'job-counts' }), h('ul', { id: 'job-warnings', class: 'warnings' })),
    h('section', { id: 'job-errors', class: 'card', 'aria-labelledby': 'errors-h' }),
    h('section', { id: 'job-changes', class: 'card', 'aria-labelledby': 'changes-h' }),
  );
  const render = (j) => {
    job = j;
    renderSummary(j);
    renderHold(j);
    renderActions(j, gen);
  };
  render(job);
  const tables = await jobTables(job, query, signal);
  if (SETTLED.has(job.status) && job.status !== 'awaiting_approval') return;
  // Follow it live; when it settles (finished, or held), its errors and changes are read again.
  let last = job.status;
  followJob(id, (j) => {
    if (signal.aborted) return;
    render(j);
    if (j.status !== last && SETTLED.has(j.status)) tables.reload(j);
    if (j.status !== last && (j.status === 'awaiting_approval' || last === 'awaiting_approval')) refreshHeld();
    last = j.status;
  }, signal).catch((err) => !signal.aborted && showError(err));
}

function renderSummary(job) {
  const o = job.options ?? {};
  fill(
    'job-summary',
    facts(
      [
        ['Status', STATUS_TEXT[job.status] ?? job.status, 'status'],
        ['Type', job.type],
        job.type === 'import' ? ['File', job.file_name ?? '(no name given)', 'file'] : null,
        job.options ? ['Options', optionsText(job), 'options'] : null,
        job.phase ? ['Phase', job.phase] : null,
        ['Created', when(job.created_at)],
        ['Started', when(job.started_at)],
        ['Finished', when(job.finished_at)],
        job.reverts ? ['Reverts', link(`/jobs/${job.reverts}`, job.reverts, `Open the job ${job.reverts} this revert undoes`), 'reverts'] : null,
        job.reverted_by ? ['Reverted by', link(`/jobs/${job.reverted_by}`, job.reverted_by, `Open the revert ${job.reverted_by}`), 'reverted-by'] : null,
        o.dry_run ? ['Dry run', 'yes: the counts and changes are what it would do; nothing was changed'] : null,
      ].filter(Boolean),
      'job',
    ),
  );
  const { processed, total, percent } = job.progress;
  const bar = $('job-progress');
  if (total === null && !SETTLED.has(job.status)) bar.removeAttribute('value');
  else bar.value = percent ?? (FINISHED.has(job.status) ? 100 : 0);
  $('job-progress-text').textContent = `${count(processed)} of ${total === null ? '?' : count(total)} rows${percent === null ? '' : ` · ${percent}%`}`;
  $('job-live').textContent = STATUS_TEXT[job.status] ?? job.status;
  fill('job-error', job.error ? h('p', { class: 'alert' }, `${job.error.code}: ${job.error.message}`) : null);
  fill('job-counts', facts(COUNT_LABELS.map(([key, label]) => [label, count(job.counts[key] ?? 0), key]), 'jobcount'));
  fill('job-warnings', (job.warnings ?? []).map((w) => h('li', {}, `Warning: ${w}`)));
}

function renderHold(job) {
  const box = $('job-hold');
  box.hidden = !job.hold;
  if (!job.hold) return;
  const x = job.hold;
  const heldNow = job.status === 'awaiting_approval';
  fill(
    box,
    h('h3', { id: 'hold-title' }, heldNow ? h('span', { class: 'badge' }, 'Held') : null, heldNow ? ' Held for approval' : 'It was held for approval'),
    h('p', {}, `Held because ${HOLD_REASONS[x.reason] ?? x.reason}: ${x.percent}% against a threshold of ${x.threshold}${x.reason === 'max_deactivate' ? '' : '%'}.`),
    facts([
      ['Deactivations it would make', count(x.deactivations), 'deactivations'],
      ['Active enrollments in scope', count(x.active_in_scope), 'active'],
      ['Share', `${x.percent}%`, 'percent'],
      ['Threshold', `${x.threshold}${x.reason === 'max_deactivate' ? '' : '%'}`, 'threshold'],
      ['Rows', count(x.rows)],
      ['Invalid rows', count(x.invalid)],
    ], 'hold'),
  );
}

const button = (text, onclick, cls = '') => h('button', { type: 'button', class: cls, onclick }, text);

/** The buttons that fit the job's state, each showing what it will do before it does it. */
function renderActions(job, gen) {
  const box = $('job-actions');
  if (box.dataset.confirming === job.status) return; // keep an open confirmation while the job holds still
  delete box.dataset.confirming;
  const act = async (fn) => {
    try {
      await fn();
    } catch (err) {
      showError(err);
    }
  };
  const cancel = ['queued', 'running', 'awaiting_approval'].includes(job.status)
    ? button('Cancel the job', () => act(async () => {
        const answer = await postJson(`api/v1/jobs/${job.id}/cancel`);
        if (answer?.id) renderActions(answer, gen);
        $('job-live').textContent = 'Cancel requested.';
      }), 'secondary')
    : null;
  const parts = [h('h3', { id: 'actions-title' }, 'Actions')];
  if (job.status === 'awaiting_approval') {
    parts.push(
      h('p', {}, 'The changes it would make are listed below. Approving applies it to the roster as it is then (if the roster changed so that it would deactivate more, it holds again with the new figures); rejecting ends it with nothing applied.'),
      h('div', { class: 'row' },
        button('Approve…', () => confirmPanel(box, job, 'approve', gen)),
        button('Reject…', () => confirmPanel(box, job, 'reject', gen), 'secondary'),
        cancel),
    );
  } else if (FINISHED.has(job.status) && !job.options?.dry_run && job.status !== 'rejected') {
    parts.push(
      job.reverted_by
        ? h('p', {}, 'This job was reverted: ', link(`/jobs/${job.reverted_by}`, 'open its revert'), '.')
        : h('div', { id: 'revert-box' },
            h('p', {}, 'Reverting undoes every change this job made, as a new revert job. Preview it first: a dry run lists what it would restore and its conflicts (changes a later job made again), and changes nothing.'),
            button('Preview the revert', () => act(() => previewRevert(job, gen)))),
    );
  } else if (cancel) {
    parts.push(h('div', { class: 'row' }, cancel));
  } else {
    parts.push(h('p', { class: 'hint' }, job.options?.dry_run ? 'A dry run changed nothing: there is nothing to revert.' : 'No action fits this job now.'));
  }
  fill(box, parts);
}

/** Approve or reject, once the operator has seen what it means. */
function confirmPanel(box, job, action, gen) {
  box.dataset.confirming = job.status;
  const c = job.counts;
  const summary = action === 'approve'
    ? `Approve: apply ${count(c.enrollments_deactivated)} deactivations, ${count(c.enrollments_created)} new enrollments, ${count(c.enrollments_activated)} reactivations, ${count(c.students_created)} new students and ${count(c.students_updated)} student updates (the changes listed below).`
    : 'Reject: end this sync with nothing applied. It cannot be approved afterwards.';
  const yes = button(action === 'approve' ? 'Approve and apply' : 'Reject the sync', async () => {
    yes.disabled = true;
    try {
      if (action === 'approve') await postJson(`api/v1/jobs/${job.id}/approve`, { idempotent: true });
      else await postJson(`api/v1/jobs/${job.id}/reject`);
      delete box.dataset.confirming;
      $('job-live').textContent = action === 'approve' ? 'Approved: the sync is queued to apply.' : 'Rejected.';
      refreshHeld();
      if (action === 'reject') renderActions(await getJson(`api/v1/jobs/${job.id}`), gen);
    } catch (err) {
      yes.disabled = false;
      showError(err);
    }
  });
  const no = button('Not now', () => { delete box.dataset.confirming; renderActions(job, gen); }, 'secondary');
  fill(box, h('h3', { id: 'actions-title' }, action === 'approve' ? 'Approve this sync?' : 'Reject this sync?'), h('p', { id: 'confirm-text' }, summary), h('div', { class: 'row' }, yes, no));
  yes.focus();
}

/** A dry-run revert, followed to its end and shown; then the real one, which opens as its own page. */
async function previewRevert(job, gen) {
  const box = $('revert-box');
  fill(box, h('p', { role: 'status' }, 'Previewing the revert (a dry run)…'));
  const accepted = await postJson(`api/v1/jobs/${job.id}/revert?dry_run=true`, { idempotent: true });
  const preview = await followJob(accepted.job_id, () => {}, undefined);
  if (stale(gen)) return;
  const c = preview.counts;
  const conflicts = await getJson(`api/v1/jobs/${preview.id}/errors?limit=20`);
  const force = h('input', { type: 'checkbox', id: 'revert-force' });
  fill(
    box,
    h('h4', { id: 'preview-title' }, 'Preview of the revert'),
    h('p', { id: 'preview-text' },
      `It would deactivate ${count(c.enrollments_deactivated)} enrollments, reactivate ${count(c.enrollments_activated)}, and restore ${count(c.students_updated)} students' names or emails. `,
      conflicts.items.length ? `${count(Math.max(c.invalid, conflicts.items.length))} conflicts: changes a later job made again, which a revert leaves as they are unless forced.` : 'No conflicts.',
      ' ', link(`/jobs/${preview.id}`, 'Open the preview job')),
    conflicts.items.length ? errorsTable(conflicts.items, 'Conflicts of the preview') : null,
    h('label', { class: 'check' }, force, ' Force: restore the conflicting changes too (overwrites what later jobs did)'),
    h('div', { class: 'row' },
      button('Revert now', async () => {
        try {
          const done = await postJson(`api/v1/jobs/${job.id}/revert${force.checked ? '?force=true' : ''}`, { idempotent: true });
          go(`/jobs/${done.job_id}`);
        } catch (err) {
          showError(err);
        }
      }),
      button('Not now', () => renderActions(job, gen), 'secondary')),
  );
  $('preview-title').setAttribute('tabindex', '-1');
  $('preview-title').focus();
}

const valueCell = (v) => (typeof v === 'string' && UUID.test(v) ? link(`/jobs/${v}`, v, `Open the job ${v}`) : v ?? '');
const errorsTable = (items, caption, id) =>
  table(caption, ['Line', 'Column', 'Code', 'Message', 'Value'], items.map((e) => [e.line ?? '', e.column ?? '', e.code, e.message, valueCell(e.value)]), { id });

/** The row errors and the changes of a job, each paginated, filterable (changes) and downloadable as CSV. */
async function jobTables(job, query, signal) {
  const errorsBody = h('div');
  const errorsPager = pager(
    (cursor) => getJson(`api/v1/jobs/${job.id}/errors${queryOf({ cursor, limit: PAGE })}`, { signal }),
    (page) => fill(errorsBody, errorsTable(page.items, 'Row errors', 'errors-table')),
    { label: 'page of row errors' },
  );
  fill('job-errors',
    h('h3', { id: 'errors-h' }, job.type === 'revert' ? 'Row errors and conflicts' : 'Row errors'),
    errorsBody, errorsPager.el,
    button('Download all errors (CSV)', () => downloadCsv(`api/v1/jobs/${job.id}/errors?format=csv`, `job-${job.id}-errors.csv`).catch(showError), 'secondary'));

  const kind = Object.hasOwn(CHANGE_KINDS, query.get('kind') ?? '') ? query.get('kind') : '';
  const courseId = /^\d{1,15}$/.test(query.get('course_id') ?? '') ? query.get('course_id') : '';
  const filter = { kind, course_id: courseId };
  const changesBody = h('div');
  const changesPager = pager(
    (cursor) => getJson(`api/v1/jobs/${job.id}/changes${queryOf({ ...filter, cursor, limit: PAGE })}`, { signal }),
    (page) => fill(changesBody, table('Changes, in the order they were made', ['#', 'Change', 'Student', 'Course', 'Before', 'After', 'Line'], page.items.map((x) => [
      String(x.seq),
      CHANGE_KINDS[x.kind] ?? x.kind,
      x.student_id ? link(`/students/${x.student_id}`, x.email ?? `#${x.student_id}`, `Open the student ${x.email ?? x.student_id}`) : '',
      x.course_id ? link(`/courses/${x.course_id}`, x.course_name ?? `#${x.course_id}`) : '',
      String(x.before ?? '—'), String(x.after ?? '—'), x.line ?? 'sweep',
    ]), { id: 'changes-table', empty: 'No change matches.' })),
    { label: 'page of changes' },
  );
  const courseInput = h('input', { id: 'changes-course', type: 'text', value: courseId, autocomplete: 'off', spellcheck: false });
  const form = h('form', { class: 'row filters', 'aria-label': 'Filter the changes', onsubmit: (e) => { e.preventDefault(); applyChangeFilter(job.id, $('changes-kind').value, courseInput.value.trim()).catch(showError); } },
    h('div', { class: 'field inline-field' }, h('label', { for: 'changes-kind' }, 'Kind'),
      h('select', { id: 'changes-kind' }, h('option', { value: '' }, 'All'), Object.entries(CHANGE_KINDS).map(([k, label]) => h('option', { value: k, selected: k === kind }, label)))),
    h('div', { class: 'field inline-field' }, h('label', { for: 'changes-course' }, 'Course (name or id)'), courseInput),
    h('button', { type: 'submit', class: 'secondary small' }, 'Filter'));
  const wouldDo = job.status === 'awaiting_approval' || job.options?.dry_run;
  fill('job-changes',
    h('h3', { id: 'changes-h' }, wouldDo ? 'Changes it would make' : 'Changes'),
    form, changesBody, changesPager.el,
    button('Download these changes (CSV)', () => downloadCsv(`api/v1/jobs/${job.id}/changes${queryOf({ ...filter, format: 'csv' })}`, `job-${job.id}-changes.csv`).catch(showError), 'secondary'));
  await Promise.all([errorsPager.reload(), changesPager.reload()]);
  return {
    reload: (j) => {
      $('changes-h').textContent = j.status === 'awaiting_approval' || j.options?.dry_run ? 'Changes it would make' : 'Changes';
      return Promise.all([errorsPager.reload(), changesPager.reload()]).catch((err) => !signal.aborted && showError(err));
    },
  };
}

/** A course filter named by id, or by name (looked up: an exact name first, else the only match). */
async function applyChangeFilter(id, kind, course) {
  let courseId = '';
  if (/^\d{1,15}$/.test(course)) courseId = course;
  else if (course) {
    const page = await getJson(`api/v1/courses${queryOf({ q: course, limit: 20 })}`);
    const exact = page.items.find((c) => c.name.toLowerCase() === course.toLowerCase()) ?? (page.items.length === 1 ? page.items[0] : null);
    if (!exact) throw new ApiError(400, 'invalid', page.items.length ? `Several courses match "${course}": type the whole name, or its id.` : `No course is named "${course}".`);
    courseId = String(exact.id);
  }
  go(`/jobs/${id}${queryOf({ kind, course_id: courseId })}`);
}

