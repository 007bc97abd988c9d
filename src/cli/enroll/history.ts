import { csvLine } from '../../downloads/csv-line.js';
import type { HistoryItemView } from '../../history/change.model.js';
import type { Client } from './client.js';
import { download, pipeOut } from './download.js';
import type { Io } from './io.js';

/** `enroll changes JOB`: the job's changes (or a dry run's or a held sync's would-be changes) as CSV, streamed. */
export function jobChanges(client: Client, jobId: string, filter: { kind?: string; courseId?: string }, io: Io): Promise<number> {
  const q = new URLSearchParams({ format: 'csv' });
  if (filter.kind !== undefined) q.set('kind', filter.kind);
  if (filter.courseId !== undefined) q.set('course_id', filter.courseId);
  return download(client, `/api/v1/jobs/${encodeURIComponent(jobId)}/changes?${q}`, io);
}

const HISTORY_COLUMNS = ['at', 'job_id', 'job_type', 'kind', 'student_id', 'email', 'course_id', 'course_name', 'before', 'after', 'line'] as const;
const HISTORY_PAGE = 1_000;

/**
 * `enroll history STUDENT_ID`: every change to the student and their enrollments, newest first,
 * as CSV (formula-safe like the service's downloads), page by page as `GET /students/{id}/history`
 * gives them.
 */
export function studentHistory(client: Client, studentId: string, io: Io): Promise<number> {
  async function* lines() {
    yield csvLine([...HISTORY_COLUMNS]);
    for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
      const q = new URLSearchParams({ limit: String(HISTORY_PAGE), ...(cursor === null ? {} : { cursor }) });
      const res = await client.request(`/api/v1/students/${encodeURIComponent(studentId)}/history?${q}`);
      const page = (await res.json()) as { items: HistoryItemView[]; next_cursor: string | null };
      if (page.items.length) yield page.items.map((item) => csvLine(HISTORY_COLUMNS.map((k) => item[k]))).join('');
      cursor = page.next_cursor;
    }
  }
  return pipeOut(lines(), io);
}
