import type { Orm } from '../db/orm.js';
import { withPgClient } from '../db/orm.js';
import type { Logger } from '../logger.js';
import { csvLine } from '../csv.js';
import { fetchStudentExportBatches, type ExportRow } from './student-export.repository.js';

/** The export's header: the legacy team columns stay (always empty) for compatibility. */
export const EXPORT_COLUMNS = ['id', 'name', 'email', 'course_name', 'active', 'team_id', 'team_name', 'team_number'] as const;

/** How long the export waits for a reader that takes nothing before it gives up and frees its connection. */
export const EXPORT_STALL_MS = 5 * 60_000;

const exportLine = (row: ExportRow) => csvLine([row.id, row.name, row.email, row.course_name, row.active, null, null, null]);

class ReaderStalledError extends Error {
  override name = 'ReaderStalledError';
}

/** `promise`, or a ReaderStalledError after `ms`. */
async function withinStallDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReaderStalledError(`the reader took nothing for ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every student as CSV, produced as the reader pulls: one database batch is fetched only once the
 * previous one has been taken, so memory stays flat whatever the number of students. The pg
 * client goes back to the pool when the export ends, fails, the reader cancels (a client that
 * disconnects) or takes nothing for `stallMs` (a client that hangs, which would otherwise pin a
 * pooled connection for ever). A failure half-way errors the stream, so the response is cut off
 * visibly instead of ending like a complete file.
 */
export function studentExportStream(orm: Orm, log: Logger, stallMs = EXPORT_STALL_MS): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  let cancelled = false;
  // A cancelled reader makes every later write reject: that ends the loop below.
  writer.closed.catch(() => (cancelled = true));
  // Resolves once the chunk is handed on, which waits for the reader: backpressure.
  const write = (text: string) => withinStallDeadline(writer.write(encoder.encode(text)), stallMs);

  void (async () => {
    try {
      await withPgClient(orm, async (client) => {
        await write(csvLine([...EXPORT_COLUMNS]));
        for await (const batch of fetchStudentExportBatches(client)) await write(batch.map(exportLine).join(''));
      });
      await writer.close();
    } catch (err) {
      if (cancelled) {
        log.info('student export cancelled by the client');
      } else {
        log.warn({ err }, 'student export failed');
        await writer.abort(err).catch(() => {});
      }
    }
  })();
  return readable;
}
