// The admin page: token, CSV upload with progress, live job progress, results, recent imports.
import { ApiError, FINISHED, downloadErrorsCsv, followJob, getJson, token, uploadCsv } from './api.js';
import { COUNT_LABELS, STATUS_TEXT, bytes, count, duration, rateMeter } from './format.js';

const $ = (id) => document.getElementById(id);
const JOBS_KEY = 'enrollment.jobs';
const MAX_RECENT = 20;
const FIRST_ERRORS = 20;
/** A job id that cannot exist: asking for it tells whether the token is accepted (404) or not (401). */
const PROBE_JOB = '00000000-0000-4000-8000-000000000000';

let following = null; // AbortController of the job the panel follows
let shownJobId = null;
let lastAnnounce = 0;
const seen = new Map(); // job id -> latest job view, or 'gone'

// ---- messages -------------------------------------------------------------------------------

function showError(err) {
  if (err?.name === 'AbortError') return;
  let text = err?.message ?? String(err);
  if (err instanceof ApiError) {
    if (err.status === 401) {
      token.clear();
      askToken();
      text = 'The service refused the token (401 unauthorized). Enter the admin token again.';
    } else if (err.status === 403) text = 'This token may only read (403 forbidden): imports need the admin token.';
    else if (err.status === 413) text = `The file is too large for the service (413): ${err.message}`;
    else if (err.status) text = `${err.message} (${err.code}, HTTP ${err.status})`;
  }
  const alert = $('alert');
  alert.replaceChildren(Object.assign(document.createElement('p'), { textContent: text }));
  if (err instanceof ApiError && Array.isArray(err.details)) {
    const list = document.createElement('ul');
    for (const d of err.details) list.append(Object.assign(document.createElement('li'), { textContent: d.field ? `${d.field}: ${d.message}` : d.message }));
    alert.append(list);
  }
  alert.hidden = false;
}

const clearError = () => { $('alert').hidden = true; };
const setStatus = (text) => { $('status').textContent = text; };

/** Screen readers hear the progress every few seconds, not at every event. */
function announce(text, force = false) {
  if (!force && Date.now() - lastAnnounce < 5000) return;
  lastAnnounce = Date.now();
  $('announce').textContent = text;
}

// ---- token ----------------------------------------------------------------------------------

function askToken() {
  $('token-form').hidden = false;
  $('token-saved').hidden = true;
  $('import-fields').disabled = true;
  $('token').value = '';
  $('token').focus();
}

function tokenSet() {
  $('token-form').hidden = true;
  $('token-saved').hidden = false;
  $('import-fields').disabled = false;
}

async function saveToken(event) {
  event.preventDefault();
  clearError();
  const value = $('token').value.trim();
  if (!value) return;
  token.set(value);
  try {
    await getJson(`api/v1/jobs/${PROBE_JOB}`);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) return showError(err);
  }
  tokenSet();
  $('file').focus();
  pollRecent();
}

// ---- upload and job panel -------------------------------------------------------------------

function describeFile() {
  const file = $('file').files[0];
  $('file-info').textContent = file ? `Selected: ${file.name} (${bytes(file.size)})` : '';
}

function openPanel({ file, mode, dryRun, id }, uploaded) {
  $('job').hidden = false;
  $('result').hidden = true;
  $('errors').hidden = true;
  $('job-meta').textContent = [file, `mode ${mode}`, dryRun ? 'dry run (changes nothing)' : null, id ? `job ${id}` : null].filter(Boolean).join(' · ');
  $('upload-bar').value = uploaded ? 100 : 0;
  $('upload-text').textContent = uploaded ? 'Uploaded' : '';
  $('job-bar').value = 0;
  $('job-text').textContent = '';
}

async function startImport(event) {
  event.preventDefault();
  clearError();
  const file = $('file').files[0];
  if (!file) return showError(new Error('Choose a CSV file first.'));
  const mode = new FormData($('import-form')).get('mode');
  const dryRun = $('dry-run').checked;
  following?.abort();
  openPanel({ file: file.name, mode, dryRun }, false);
  setStatus('Uploading…');
  announce(`Uploading ${file.name}`, true);
  $('upload').disabled = true;
  try {
    const accepted = await uploadCsv(file, { mode, dryRun }, (loaded, total) => {
      const percent = total ? Math.floor((loaded / total) * 100) : 0;
      $('upload-bar').value = percent;
      $('upload-text').textContent = `${bytes(loaded)} of ${bytes(total)} (${percent}%)`;
      if (loaded >= total) setStatus('Uploaded: the service is storing the file…');
    });
    const entry = { id: accepted.job_id, file: file.name, mode, dryRun, at: new Date().toISOString() };
    remember(entry);
    openPanel(entry, true);
    $('upload-text').textContent = `${bytes(file.size)} uploaded and stored`;
    await follow(entry);
  } catch (err) {
    setStatus('The upload did not go through.');
    showError(err);
  } finally {
    $('upload').disabled = false;
  }
}

/** Follows a job in the panel until it finishes, then shows its counts and first errors. */
async function follow(entry) {
  following?.abort();
  const controller = (following = new AbortController());
  shownJobId = entry.id;
  const rate = rateMeter();
  try {
    const job = await followJob(entry.id, (j) => showProgress(j, rate(j.progress.processed)), controller.signal);
    if (!controller.signal.aborted) await showResult(job, entry.dryRun);
  } catch (err) {
    if (!controller.signal.aborted) showError(err);
  }
}

function showProgress(job, rowsPerSecond) {
  seen.set(job.id, job);
  renderRecent();
  if (job.id !== shownJobId) return;
  const { processed, total, percent } = job.progress;
  const bar = $('job-bar');
  let text;
  if (job.status === 'queued') {
    bar.value = 0;
    text = 'Waiting for a worker…';
  } else if (total === null && !FINISHED.has(job.status)) {
    bar.removeAttribute('value'); // indeterminate until the file's rows are counted
    text = `${count(processed)} rows so far`;
  } else {
    bar.value = percent ?? 0;
    const parts = [`${count(processed)} of ${count(total ?? processed)} rows`, `${percent ?? 0}%`];
    if (rowsPerSecond && !FINISHED.has(job.status)) {
      parts.push(`${count(Math.round(rowsPerSecond))} rows/s`);
      if (total !== null) parts.push(`about ${duration((total - processed) / rowsPerSecond)} left`);
    }
    text = parts.join(' · ');
  }
  $('job-text').textContent = text;
  setStatus(STATUS_TEXT[job.status] ?? job.status);
  announce(`${STATUS_TEXT[job.status] ?? job.status}: ${text}`);
}

async function showResult(job, dryRun) {
  const { counts } = job;
  const dry = dryRun ? ' Dry run: nothing was changed; the counts say what the import would do.' : '';
  setStatus(`${STATUS_TEXT[job.status] ?? job.status}: ${count(counts.rows)} rows, ${count(counts.valid)} valid, ${count(counts.invalid)} invalid.${dry}`);
  if (job.error) showError(new Error(`The import failed: ${job.error.message}`));
  announce($('status').textContent, true);
  $('counts').replaceChildren(
    ...COUNT_LABELS.flatMap(([key, label]) => [
      Object.assign(document.createElement('dt'), { textContent: label }),
      Object.assign(document.createElement('dd'), { textContent: count(counts[key] ?? 0), id: `count-${key}` }),
    ]),
  );
  $('warnings').replaceChildren(...(job.warnings ?? []).map((w) => Object.assign(document.createElement('li'), { textContent: `Warning: ${w}` })));
  $('result').hidden = false;
  if (counts.invalid > 0 || job.status === 'completed_with_errors') await showErrors(job);
}

async function showErrors(job) {
  const page = await getJson(`api/v1/jobs/${job.id}/errors?limit=${FIRST_ERRORS}`);
  const rows = page.items.map((e) => {
    const tr = document.createElement('tr');
    for (const value of [e.line, e.column, e.code, e.message, e.value]) tr.append(Object.assign(document.createElement('td'), { textContent: value ?? '' }));
    return tr;
  });
  $('errors-body').replaceChildren(...rows);
  const total = Math.max(job.counts.invalid, page.items.length);
  $('errors-title').textContent = page.next_cursor ? `Row errors: the first ${page.items.length} of ${count(total)}` : `Row errors (${page.items.length})`;
  $('errors').hidden = page.items.length === 0;
}

// ---- recent imports (this tab's, with their file names, and the service's latest) ------------

const tabJobs = () => JSON.parse(sessionStorage.getItem(JOBS_KEY) ?? '[]');
/** Recent imports the service knows that this tab did not start (file and options unknown here). */
let otherJobs = [];

/** This tab's imports and the service's latest ones, newest first. */
const recentJobs = () => {
  const mine = tabJobs();
  const known = new Set(mine.map((e) => e.id));
  return [...mine, ...otherJobs.filter((e) => !known.has(e.id))]
    .sort((a, b) => new Date(b.at) - new Date(a.at))
    .slice(0, MAX_RECENT);
};

function remember(entry) {
  sessionStorage.setItem(JOBS_KEY, JSON.stringify([entry, ...tabJobs().filter((j) => j.id !== entry.id)].slice(0, MAX_RECENT)));
  renderRecent();
}

function renderRecent() {
  const jobs = recentJobs();
  $('recent').hidden = jobs.length === 0;
  $('recent-empty').hidden = jobs.length > 0;
  $('recent-body').replaceChildren(
    ...jobs.map((entry) => {
      const job = seen.get(entry.id);
      const status = job === 'gone' ? 'No longer kept' : job ? STATUS_TEXT[job.status] ?? job.status : '…';
      const rows = job && job !== 'gone' ? `${count(job.counts.rows)} (${count(job.counts.invalid)} invalid)` : '';
      const tr = document.createElement('tr');
      const options = entry.mode ? `${entry.mode}${entry.dryRun ? ', dry run' : ''}` : '—';
      const cells = [new Date(entry.at).toLocaleTimeString(), entry.file, options, status, rows];
      for (const text of cells) tr.append(Object.assign(document.createElement('td'), { textContent: text }));
      const show = Object.assign(document.createElement('button'), { type: 'button', className: 'secondary small', textContent: 'Show' });
      show.setAttribute('aria-label', `Show the import of ${entry.file} started at ${cells[0]}`);
      show.disabled = job === 'gone';
      show.addEventListener('click', () => {
        clearError();
        openPanel(entry, true);
        follow(entry);
        $('job').scrollIntoView({ block: 'start' });
      });
      const td = document.createElement('td');
      td.append(show);
      tr.append(td);
      return tr;
    }),
  );
}

let pollTimer = null;
/**
 * Fetches the service's latest imports, then refreshes every unfinished job in the list, every
 * 3 s while any is unfinished.
 */
async function pollRecent() {
  clearTimeout(pollTimer);
  if (!token.get()) return;
  try {
    const latest = await getJson(`api/v1/jobs?type=import&limit=${MAX_RECENT}`);
    for (const job of latest.items) seen.set(job.id, job);
    otherJobs = latest.items.map((job) => ({ id: job.id, file: 'another upload', mode: '', dryRun: false, at: job.created_at }));
  } catch (err) {
    return showError(err);
  }
  const open = recentJobs().filter((e) => { const j = seen.get(e.id); return !j || (j !== 'gone' && !FINISHED.has(j.status)); });
  for (const entry of open) {
    try {
      seen.set(entry.id, await getJson(`api/v1/jobs/${entry.id}`));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) seen.set(entry.id, 'gone');
      else return showError(err);
    }
  }
  renderRecent();
  if (open.length) pollTimer = setTimeout(pollRecent, 3000);
}

// ---- wiring ---------------------------------------------------------------------------------

function wireDropZone() {
  const zone = $('drop');
  const input = $('file');
  // A file dropped beside the zone must not make the browser navigate away from the page.
  for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (input.disabled || !e.dataTransfer?.files.length) return;
    input.files = e.dataTransfer.files;
    describeFile();
  });
  input.addEventListener('change', describeFile);
}

$('token-form').addEventListener('submit', saveToken);
$('token-change').addEventListener('click', askToken);
$('token-forget').addEventListener('click', () => { token.clear(); askToken(); });
$('import-form').addEventListener('submit', startImport);
$('errors-download').addEventListener('click', () => shownJobId && downloadErrorsCsv(shownJobId).catch(showError));
wireDropZone();
renderRecent();
if (token.get()) {
  tokenSet();
  pollRecent();
} else askToken();
