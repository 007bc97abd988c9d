import { parentPort, workerData } from 'node:worker_threads';
import { stagedBatches, type BatchOptions } from './staged-batch.js';
import type { FromParser, ToParser } from './batch-parser.js';

/**
 * The parser thread of an import (see batch-parser.ts): asks for the file's chunks one at a
 * time, parses and validates them into staged batches, and stays at most AHEAD batches ahead of
 * the thread that applies them.
 */

const AHEAD = 2;
const PARSE_SLICE_BYTES = 64 * 1024;
const port = parentPort!;
const inbox: { input: ToParser[]; acks: number } = { input: [], acks: 0 };
let wake: (() => void) | null = null;
// stagedBatches reads `size` at every row: a new size applies to the batch being built.
const options: BatchOptions = { ...(workerData as BatchOptions) };
// The memory of batches the consumer is done with, written into again: a few buffers for the whole file.
const spares: ArrayBuffer[] = [];

port.on('message', (message: ToParser) => {
  if (message.type === 'ack') {
    inbox.acks++;
    if (message.size) options.size = message.size;
    if (message.spare) spares.push(message.spare);
  } else inbox.input.push(message);
  wake?.();
});

const until = async (ready: () => boolean) => {
  while (!ready()) await new Promise<void>((resolve) => (wake = resolve));
  wake = null;
};
// A batch's COPY text is handed over, not copied: its buffer is the batch's own (staged-batch.ts).
const post = (message: FromParser) => port.postMessage(message, message.type === 'batch' ? [message.batch.copy.buffer as ArrayBuffer] : []);

async function* chunks(): AsyncGenerator<Buffer> {
  for (;;) {
    post({ type: 'need' });
    await until(() => inbox.input.length > 0);
    const message = inbox.input.shift()!;
    if (message.type === 'end') return;
    if (message.type !== 'chunk') continue;
    // Parsed a slice at a time: the records of a whole stored chunk (a megabyte) would all be alive at once.
    const chunk = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
    for (let at = 0; at < chunk.length; at += PARSE_SLICE_BYTES) yield chunk.subarray(at, at + PARSE_SLICE_BYTES);
  }
}

try {
  let sent = 0;
  for await (const batch of stagedBatches(chunks(), options, () => spares.pop())) {
    await until(() => sent - inbox.acks < AHEAD);
    post({ type: 'batch', batch });
    sent++;
  }
  post({ type: 'done' });
} catch (err) {
  const { name, message, code } = err as Error & { code?: string };
  post({ type: 'error', error: { name, message, code } });
}
