import { Worker } from 'node:worker_threads';
import { ImportFileError } from './csv-reader.js';
import type { BatchOptions, StagedBatch } from './staged-batch.js';

/**
 * Parses an import's file in a thread of its own, so that CSV parsing and row validation run on
 * one core while PostgreSQL applies the previous batches on another: on the main thread, each
 * megabyte parsed held the event loop for ~100 ms while the import's queries waited to be read.
 * This thread reads the file (I/O, cheap) and hands it over chunk by chunk when the parser asks;
 * the parser posts staged batches back and stays at most two ahead of the consumer.
 */

/**
 * `ack`: the consumer took a batch; `size`, when given, is the size of the batches the parser
 * starts from now on; `spare`, the memory of the batch before it, which the consumer is done with.
 */
export type ToParser = { type: 'chunk'; data: Uint8Array } | { type: 'end' } | { type: 'ack'; size?: number; spare?: ArrayBuffer };
export type FromParser =
  | { type: 'need' }
  | { type: 'batch'; batch: StagedBatch }
  | { type: 'done' }
  | { type: 'error'; error: { name: string; message: string; code?: string } };

// Compiled, the thread is the .js file next to this one. From source (tsx, vitest) it is a .ts
// file, which a thread can only load after registering tsx's loader itself.
const compiled = import.meta.url.endsWith('.js');
const THREAD_FILE = new URL(`./batch-parser.thread.${compiled ? 'js' : 'ts'}`, import.meta.url);
const THREAD_ENTRY = compiled
  ? THREAD_FILE
  : `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_FILE.href)}); })`;
/** A cap, not a reservation: the parser holds a megabyte of input and a few batches; from source, tsx adds its own. */
const THREAD_LIMITS = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 8 };

/**
 * The staged batches of a file, parsed in a thread; the thread ends when the consumer stops.
 * `batchSize`, when given, is asked each time a batch is taken for the size of the batches to come
 * (they follow with a lag: the parser is ahead). A batch's `copy` is valid until the next batch is
 * asked for: its memory then goes back to the thread for a later batch (a consumer that keeps a
 * batch copies it), so that a whole file is staged through a few buffers instead of leaving one
 * per batch to the garbage collector.
 */
export async function* parseInThread(
  chunks: AsyncIterable<Buffer>,
  opts: BatchOptions,
  batchSize?: () => number,
): AsyncGenerator<StagedBatch> {
  const source = chunks[Symbol.asyncIterator]();
  const thread = new Worker(THREAD_ENTRY, { eval: !compiled, workerData: opts, resourceLimits: THREAD_LIMITS });
  const batches: StagedBatch[] = [];
  let done = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const fail = (err: Error) => {
    failure ??= err;
    wake?.();
  };
  thread.on('message', (message: FromParser) => {
    switch (message.type) {
      case 'need':
        source.next().then(
          (next) => (next.done ? thread.postMessage({ type: 'end' } satisfies ToParser) : postChunk(thread, next.value)),
          fail,
        );
        return;
      case 'batch': {
        // Posted, the batch's Buffer arrives as a plain Uint8Array over the same memory.
        const { copy } = message.batch;
        batches.push({ ...message.batch, copy: Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength) });
        break;
      }
      case 'done':
        done = true;
        break;
      case 'error':
        return fail(rebuildError(message.error));
    }
    wake?.();
  });
  thread.on('error', fail);
  thread.on('messageerror', fail);
  thread.on('exit', (code) => done || fail(new Error(`the import's parser thread exited (code ${code})`)));
  let lent: ArrayBuffer | undefined;
  try {
    for (;;) {
      while (!batches.length && !done && !failure) await new Promise<void>((resolve) => (wake = resolve));
      if (batches.length) {
        const spare = lent;
        const batch = batches.shift()!;
        lent = batch.copy.buffer as ArrayBuffer;
        thread.postMessage({ type: 'ack', size: batchSize?.(), spare } satisfies ToParser, spare ? [spare] : []);
        yield batch;
      } else if (done) return;
      else throw failure!;
    }
  } finally {
    await thread.terminate();
    await source.return?.(undefined);
  }
}

/**
 * Hands a chunk of the file to the thread: moved when the chunk is the whole of its memory (a
 * chunk read back from PostgreSQL is), copied otherwise (a slice of a larger buffer, or of Node's
 * shared pool, which must not be taken away).
 */
function postChunk(thread: Worker, data: Buffer): void {
  const own = data.byteLength === data.buffer.byteLength && !(data.buffer instanceof SharedArrayBuffer);
  thread.postMessage({ type: 'chunk', data } satisfies ToParser, own ? [data.buffer as ArrayBuffer] : []);
}

/** The thread's error as the caller expects it: a whole-file problem, or an error with its code (transient or not). */
function rebuildError({ name, message, code }: { name: string; message: string; code?: string }): Error {
  if (name === 'ImportFileError') return new ImportFileError(code as ImportFileError['code'], message);
  return Object.assign(new Error(message), { name, code });
}
