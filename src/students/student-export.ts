import { csvLine } from '../downloads/csv-line.js';
import { DOWNLOAD_MAX_MS, pullStream, STALL_MS } from '../downloads/pull-stream.js';
import type { Orm } from '../db/orm.js';
import { withPgClient } from '../db/orm.js';
import type { Logger } from '../process/logger.js';
import { fetchStudentExportBatches, type ExportRow } from './student-export.repository.js';

/** The export's header: the legacy team columns stay (always empty) for compatibility. */
export const EXPORT_COLUMNS = ['id', 'name', 'email', 'course_name', 'active', 'team_id', 'team_name', 'team_number'] as const;

const exportLine = (row: ExportRow) => csvLine([row.id, row.name, row.email, row.course_name, row.active, null, null, null]);

/**
 * Every student as CSV, produced as the reader pulls: one database batch is fetched only once the
 * previous one has been taken, so memory stays flat whatever the number of students. The pg
 * client goes back to the pool when the export ends, fails, or its reader goes away, hangs, or
 * takes longer than `maxMs` for the whole download.
 */
export function studentExportStream(
  orm: Orm,
  log: Logger,
  stallMs = STALL_MS,
  onEnd?: () => void,
  maxMs = DOWNLOAD_MAX_MS,
): ReadableStream<Uint8Array> {
  return pullStream(
    'student export',
    log,
    (write) =>
      withPgClient(orm, async (client) => {
        await write(csvLine([...EXPORT_COLUMNS]));
        for await (const batch of fetchStudentExportBatches(client)) await write(batch.map(exportLine).join(''));
      }),
    { stallMs, maxMs, onEnd },
  );
}
