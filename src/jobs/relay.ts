import pg from 'pg';
import { coalesce } from '../async/coalesce.js';
import type { Deps } from '../process/deps.js';
import { inTransaction } from '../db/transaction.js';
import { enqueueJobs } from '../queues/queues.js';
import { withTimeout } from '../async/timeout.js';
import { lockJobsToHandOver, markHandedOver } from './job-outbox.repository.js';
import { NEW_JOBS_CHANNEL } from './job.repository.js';

/** Jobs handed to BullMQ per transaction (one wake-up per queue names them all). */
const HANDOVER_BATCH = 1_000;
/** A wake-up lost with a dropped connection is made up for within this. */
const SAFETY_NET_MS = 2_000;
const RECONNECT_MS = 1_000;
/**
 * How long a hand-over waits for BullMQ. Its transaction holds the jobs' row locks (a cancel waits
 * on them), and an unreachable Redis would hold them for ever: after this it rolls back. A command
 * that reaches the backend later only adds a wake-up whose jobs the next pass wakes again (a duplicate wake-up finds them finished).
 */
const ENQUEUE_TIMEOUT_MS = 5_000;

type RelayDeps = Pick<Deps, 'orm' | 'queues' | 'queueBackend' | 'config' | 'logger'>;

/**
 * Hands the oldest jobs that BullMQ has not been given yet to BullMQ, at most `limit`, as one
 * wake-up per queue naming them all, and stamps their `enqueued_at` in the transaction that locked
 * them (SKIP LOCKED: relays in several processes share the work). If BullMQ refuses, the
 * transaction rolls back and the jobs are handed over on a later try; a job handed over twice (a
 * crash between the add and the commit) is woken twice, and the second wake-up finds it finished.
 * Finished jobs (cancelled while waiting) are only stamped. Returns how many jobs it took.
 */
export async function handOverOnce(deps: Pick<RelayDeps, 'orm' | 'queues' | 'queueBackend'>, limit = HANDOVER_BATCH): Promise<number> {
  // Not even tried while Redis is cut off: the call would wait in the connection's offline queue,
  // and every later pass would queue the same jobs again (memory, and a replay when Redis is back).
  if (!deps.queueBackend.up()) throw new Error(`the queue backend is ${deps.queueBackend.state()}: the jobs wait in PostgreSQL until it is back`);
  return inTransaction(deps.orm, async (client) => {
    const rows = await lockJobsToHandOver(client, limit);
    if (!rows.length) return 0;
    const pending = rows.filter((r) => r.status === 'queued' || r.status === 'running');
    await withTimeout(enqueueJobs(deps.queues, pending), ENQUEUE_TIMEOUT_MS, deps.queueBackend.kind);
    await markHandedOver(client, rows.map((r) => r.id));
    return rows.length;
  });
}

/**
 * The relay of a worker process (a transactional outbox): the API only commits job rows, and this
 * hands them to BullMQ. It wakes on the notification each commit of new jobs sends (LISTEN on a
 * connection of its own, reconnected when it drops), and every SAFETY_NET_MS in case one was lost.
 */
export function startRelay(deps: RelayDeps) {
  const log = deps.logger.child({ worker: 'relay' });
  let closed = false;
  let listener: pg.Client | undefined;
  let reconnect: NodeJS.Timeout | undefined;

  const drain = coalesce(async () => {
    while (!closed && (await handOverOnce(deps)) === HANDOVER_BATCH);
  });
  let last: Promise<void> = Promise.resolve();
  const wake = () => {
    if (!deps.queueBackend.up()) return; // the connection logs the outage; the safety net tries again
    last = drain().catch((err) => log.warn({ err: (err as Error).message }, 'handing jobs to BullMQ failed; will retry'));
  };

  const listen = async () => {
    const client = new pg.Client({ connectionString: deps.config.databaseUrl });
    const retry = () => {
      if (closed || listener !== client) return;
      listener = undefined;
      client.end().catch(() => {});
      reconnect = setTimeout(() => void listen(), RECONNECT_MS);
    };
    listener = client;
    client.on('notification', wake);
    client.on('error', (err) => {
      log.warn({ err: err.message }, 'relay connection lost; reconnecting');
      retry();
    });
    client.on('end', retry);
    try {
      await client.connect();
      await client.query(`listen ${NEW_JOBS_CHANNEL}`);
      wake(); // what was committed while nobody listened
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'relay could not listen; retrying');
      retry();
    }
  };

  void listen();
  const safetyNet = setInterval(wake, SAFETY_NET_MS);
  return {
    name: 'relay',
    close: async () => {
      closed = true;
      clearInterval(safetyNet);
      clearTimeout(reconnect);
      await listener?.end().catch(() => {});
      await last; // at most ENQUEUE_TIMEOUT_MS when the queue backend is unreachable
    },
  };
}
