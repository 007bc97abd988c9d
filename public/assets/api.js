// The page's client of the service's API: the token, JSON requests, the CSV upload, job events.
import { readEventStream } from './sse.js';

const TOKEN_KEY = 'enrollment.token';
export const FINISHED = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled', 'rejected']);
/** A job that will not move by itself: finished, or a sync held for approval. */
export const SETTLED = new Set([...FINISHED, 'awaiting_approval']);

/** The token lives in sessionStorage: this tab, until it is closed. */
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer of the API that is not a success, with the `{error: {code, message, details}}` envelope. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** API paths are relative to the page, so the service also works behind a path prefix. */
const url = (path) => new URL(path, document.baseURI).href;
const authorization = () => ({ Authorization: `Bearer ${token.get() ?? ''}` });

async function errorOf(status, text) {
  try {
    const { error } = JSON.parse(text);
    return new ApiError(status, error.code, error.message, error.details);
  } catch {
    return new ApiError(status, 'http_' + status, text.slice(0, 200) || `HTTP ${status}`);
  }
}

/** fetch() with the token; a non-2xx answer throws an ApiError. */
export async function apiFetch(path, { method = 'GET', accept = 'application/json', signal } = {}) {
  let res;
  try {
    res = await fetch(url(path), { method, signal, headers: { ...authorization(), Accept: accept }, cache: 'no-store' });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'network', 'The service did not answer (network error).');
  }
  if (!res.ok) throw await errorOf(res.status, await res.text());
  return res;
}

export const getJson = async (path, options) => (await apiFetch(path, options)).json();

/**
 * A write without a body (cancel, approve, reject, revert): its JSON answer. `idempotent` sends a
 * fresh Idempotency-Key, so that a resent request never does the work twice.
 */
export async function postJson(path, { idempotent = false } = {}) {
  let res;
  const headers = { ...authorization(), Accept: 'application/json' };
  if (idempotent) headers['Idempotency-Key'] = `console-${randomKey()}`;
  try {
    res = await fetch(url(path), { method: 'POST', headers, cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'The service did not answer (network error).');
  }
  if (!res.ok) throw await errorOf(res.status, await res.text());
  return res.json();
}

/** A query string of the given parameters, leaving out empty ones. */
export function queryOf(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** A random Idempotency-Key (crypto.randomUUID needs a secure context; closed networks often use plain http). */
function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * POSTs the file itself as text/csv with XMLHttpRequest (fetch() reports no upload progress).
 * `onProgress(loaded, total)` follows the upload; resolves with the 202 body `{job_id, status_url}`.
 */
export function uploadCsv(file, options, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url(`api/v1/admin/imports${queryOf(options)}`));
    xhr.setRequestHeader('Authorization', authorization().Authorization);
    xhr.setRequestHeader('Content-Type', 'text/csv');
    xhr.setRequestHeader('Accept', 'application/json');
    // One key per upload: a resent request can never start a second import.
    xhr.setRequestHeader('Idempotency-Key', `admin-page-${randomKey()}`);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.upload.onload = () => onProgress(file.size, file.size);
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The upload was cut off (network error).'));
    xhr.onload = async () => {
      if (xhr.status === 202 || xhr.status === 200) resolve(JSON.parse(xhr.responseText));
      else reject(await errorOf(xhr.status, xhr.responseText));
    };
    xhr.send(file);
  });
}

/**
 * Follows a job until it finishes: `onJob(job)` on every change (a held sync is not finished: it
 * is followed on, as it may be approved or rejected elsewhere). Reads the job's event stream;
 * if the stream is not available or is cut off, polls `GET /jobs/{id}` once a second instead.
 * Resolves with the finished job.
 */
export async function followJob(id, onJob, signal) {
  try {
    const res = await apiFetch(`api/v1/jobs/${id}/events`, { accept: 'text/event-stream', signal });
    let finished = null;
    await readEventStream(res, ({ event, data }) => {
      if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
      if (event === 'progress' || event === 'done') {
        const job = JSON.parse(data);
        onJob(job);
        if (event === 'done' || FINISHED.has(job.status)) finished = job;
      } else if (event === 'error') {
        const { error } = JSON.parse(data);
        throw new ApiError(200, error.code, error.message, error.details);
      }
    });
    if (finished) return finished;
  } catch (err) {
    if (signal?.aborted || (err instanceof ApiError && [401, 403].includes(err.status))) throw err;
    // Otherwise (no events endpoint, a proxy cut the stream): poll instead.
  }
  for (;;) {
    const job = await getJson(`api/v1/jobs/${id}`, { signal });
    onJob(job);
    if (FINISHED.has(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
  }
}

/** Downloads every row error of a job as CSV (fetched with the token, saved from a Blob). */
export const downloadErrorsCsv = (id) => downloadCsv(`api/v1/jobs/${id}/errors?format=csv`, `job-${id}-errors.csv`);

/** Downloads a CSV answer of the API as a file (fetched with the token: a plain link could not send it). */
export async function downloadCsv(path, fileName) {
  const res = await apiFetch(path, { accept: 'text/csv' });
  const blob = await res.blob();
  const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
