// The console's import page: CSV upload (set, add or sync, with a sync's options) with progress,
// live job progress, results. The token and the alert are the console's (console.js).
import { ApiError, FINISHED, downloadErrorsCsv, followJob, getJson, token, uploadCsv } from './api.js';
import { COUNT_LABELS, STATUS_TEXT, bytes, count, duration, rateMeter } from './format.js';

const $ = (id) => document.getElementById(id);
const JOBS_KEY = 'enrollment.jobs';
const MAX_RECENT = 20;
const FIRST_ERRORS = 20;
/** A job id that cannot exist: asking for it tells whether the token is accepted (404) or not (401). */
export const PROBE_JOB = '00000000-0000-4000-8000-000000000000';

let following = null; // AbortController of the job the panel follows
let shownJobId = null;
let lastAnnounce = 0;

// ---- messages -------------------------------------------------------------------------------

/** Shows an error in the page's alert; a refused token (401) asks for the token again. */
export function showError(err) {
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

export const clearError = () => { $('alert').hidden = true; };
const setStatus = (text) => { $('status').textContent = text; };

/** Screen readers hear the progress every few seconds, not at every event. */
function announce(text, force = false) {
  if (!force && Date.now() - lastAnnounce < 5000) return;
  lastAnnounce = Date.now();
  $('announce').textContent = text;
}

// ---- token ----------------------------------------------------------------------------------

/** Called once a token is accepted (the console starts its polls). */
let onToken = () => {};

export function askToken() {
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
  onToken(true);
}

// ---- upload and job panel -------------------------------------------------------------------

function describeFile() {
  const file = $('file').files[0];
  $('file-info').textContent = file ? `Selected: ${file.name} (${bytes(file.size)})` : '';
}

function openPanel({ file, mode, dryRun, id }, uploaded) {
  $('job').hidden = false;
  $('job-link').hidden = !id;
  if (id) $('job-link').replaceChildren(Object.assign(document.createElement('a'), { href: `#/jobs/${id}`, textContent: "Open the job's page (its changes, errors and actions)" }));
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
  const form = new FormData($('import-form'));
  const mode = form.get('mode');
  const dryRun = $('dry-run').checked;
  const options = { mode, dry_run: dryRun, filename: file.name };
  if (mode === 'sync') {
    options.scope = form.get('scope');
    for (const name of ['source', 'max_deactivate_percent', 'max_deactivate', 'max_invalid_percent']) options[name] = String(form.get(name) ?? '').trim();
  }
  following?.abort();
  openPanel({ file: file.name, mode, dryRun }, false);
  setStatus('Uploading…');
  announce(`Uploading ${file.name}`, true);
  $('upload').disabled = true;
  try {
    const accepted = await uploadCsv(file, options, (loaded, total) => {
      const percent = total ? Math.floor((loaded / total) * 100) : 0;
      $('upload-bar').value = percent;
      $('upload-text').textContent = `${bytes(loaded)} of ${bytes(total)} (${percent}%)`;
      if (loaded >= total) setStatus('Uploaded: the service is storing the file…');
    });
    const entry = { id: accepted.job_id, file: file.name, mode, dryRun, at: new Date().toISOString() };
    remember(entry);
    openPanel(entry, true);
    $('job-link').querySelector('a')?.focus({ preventScroll: true });
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
  if (job.id !== shownJobId) return;
  if (job.status === 'awaiting_approval') {
    $('job-bar').value = 0;
    $('job-text').textContent = `Held: it would deactivate ${count(job.hold?.deactivations ?? 0)} enrollments. Nothing was applied.`;
    setStatus(`${STATUS_TEXT.awaiting_approval}. Open the job's page to look at its changes and approve or reject it.`);
    announce($('status').textContent, true);
    return;
  }
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

// ---- this tab's imports (kept for the jobs list's "started here" mark) -----------------------

const tabJobs = () => JSON.parse(sessionStorage.getItem(JOBS_KEY) ?? '[]');

function remember(entry) {
  sessionStorage.setItem(JOBS_KEY, JSON.stringify([entry, ...tabJobs().filter((j) => j.id !== entry.id)].slice(0, MAX_RECENT)));
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

/** A sync is a dry run by default (the box is ticked when sync is chosen, until the operator unticks it). */
function wireModes() {
  let touched = false;
  $('dry-run').addEventListener('change', () => { touched = true; });
  for (const radio of document.querySelectorAll('input[name=mode]')) {
    radio.addEventListener('change', () => {
      const sync = radio.value === 'sync' && radio.checked;
      if (!radio.checked) return;
      $('sync-fields').hidden = !sync;
      $('dry-run-hint').hidden = !sync;
      if (!touched) $('dry-run').checked = sync;
    });
  }
}

/** Wires the token card and the import form; `tokenAccepted(fromForm)` runs once a token is set. */
export function initImport(tokenAccepted) {
  onToken = tokenAccepted;
  $('token-form').addEventListener('submit', saveToken);
  $('token-change').addEventListener('click', askToken);
  $('token-forget').addEventListener('click', () => { token.clear(); askToken(); });
  $('import-form').addEventListener('submit', startImport);
  $('errors-download').addEventListener('click', () => shownJobId && downloadErrorsCsv(shownJobId).catch(showError));
  wireDropZone();
  wireModes();
  if (token.get()) {
    tokenSet();
    onToken(false);
  } else askToken();
}
