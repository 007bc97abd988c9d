import pg from 'pg';
import { coalesce } from '../async/coalesce.js';
import type { Deps } from '../process/deps.js';
import { inTransaction } from '../db/transaction.js';
import { enqueueJobs } from '../queues/queues.js';
import { withTimeout } from '../async/timeout.js';
import { redisUp } from '../queues/redis.js';
import { lockJobsToHandOver, markHandedOver } from './job-outbox.repository.js';
import { NEW_JOBS_CHANNEL } from './job.repository.js';

/** Jobs handed to BullMQ per transaction (one addBulk per queue). */
const HANDOVER_BATCH = 1_000;
/** A wake-up lost with a dropped connection is made up for within this. */
const SAFETY_NET_MS = 2_000;
const RECONNECT_MS = 1_000;
/**
 * How long a hand-over waits for BullMQ. Its transaction holds the jobs' row locks (a cancel waits
 * on them), and an unreachable Redis would hold them for ever: after this it rolls back. A command
 * that reaches Redis later only adds jobs BullMQ already knows by id, or that the next pass adds.
 */
const ENQUEUE_TIMEOUT_MS = 5_000;

type RelayDeps = Pick<Deps, 'orm' | 'queues' | 'redis' | 'config' | 'logger'>;

/**
 * Hands the oldest jobs that BullMQ has not been given yet to BullMQ, at most `limit`, and stamps
 * their `enqueued_at` in the transaction that locked them (SKIP LOCKED: relays in several processes
 * share the work). If BullMQ refuses, the transaction rolls back and the jobs are handed over on a
 * later try; a job handed over twice (a crash between addBulk and the commit) is one BullMQ job,
 * since its BullMQ id is its job id. Finished jobs (cancelled while waiting) are only stamped.
 * Returns how many jobs it took.
 */
export async function handOverOnce(deps: Pick<RelayDeps, 'orm' | 'queues' | 'redis'>, limit = HANDOVER_BATCH): Promise<number> {
  // Not even tried while Redis is cut off: the call would wait in the connection's offline queue,
  // and every later pass would queue the same jobs again (memory, and a replay when Redis is back).
  if (!redisUp(deps.redis)) throw new Error(`Redis is ${deps.redis.status}: the jobs wait in PostgreSQL until it is back`);
  return inTransaction(deps.orm, async (client) => {
    const rows = await lockJobsToHandOver(client, limit);
    if (!rows.length) return 0;
    const pending = rows.filter((r) => r.status === 'queued' || r.status === 'running');
    await withTimeout(enqueueJobs(deps.queues, pending), ENQUEUE_TIMEOUT_MS, 'redis');
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
    if (!redisUp(deps.redis)) return; // the connection logs the outage; the safety net tries again
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
      await last; // at most ENQUEUE_TIMEOUT_MS when Redis is unreachable
    },
  };
}
