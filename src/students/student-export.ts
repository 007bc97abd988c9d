import type { Orm } from '../db/orm.js';
import { withPgClient } from '../db/orm.js';
import type { Logger } from '../logger.js';
import { csvLine } from './csv.js';
import { fetchStudentExportBatches, type ExportRow } from './student-export.repository.js';

/** The export's header: the legacy team columns stay (always empty) for compatibility. */
export const EXPORT_COLUMNS = ['id', 'name', 'email', 'course_name', 'active', 'team_id', 'team_name', 'team_number'] as const;

const exportLine = (row: ExportRow) => csvLine([row.id, row.name, row.email, row.course_name, row.active, null, null, null]);

/**
 * Every student as CSV, produced as the reader pulls: one database batch is fetched only once the
 * previous one has been taken, so memory stays flat whatever the number of students. The pg
 * client goes back to the pool when the export ends, fails, or the reader cancels (a client that
 * disconnects). A database failure half-way errors the stream, so the response is cut off
 * visibly instead of ending like a complete file.
 */
export function studentExportStream(orm: Orm, log: Logger): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  let cancelled = false;
  // A cancelled reader makes every later write reject: that ends the loop below.
  writer.closed.catch(() => (cancelled = true));

  void (async () => {
    try {
      await withPgClient(orm, async (client) => {
        await writer.write(encoder.encode(csvLine(EXPORT_COLUMNS)));
        for await (const batch of fetchStudentExportBatches(client)) {
          // Resolves once the chunk is handed on, which waits for the reader: backpressure.
          await writer.write(encoder.encode(batch.map(exportLine).join('')));
        }
      });
      await writer.close();
    } catch (err) {
      if (cancelled) {
        log.info('student export cancelled by the client');
      } else {
        log.error({ err }, 'student export failed');
        await writer.abort(err).catch(() => {});
      }
    }
  })();
  return readable;
}
