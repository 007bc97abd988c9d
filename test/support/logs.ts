import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A logged JSON line, parsed. */
export type LogLine = Record<string, unknown>;

/** Log lines kept in memory: `logger(level)` makes a pino logger that writes to `lines`. */
export function captureLogs(): { lines: LogLine[]; logger: (level?: string) => Logger } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { lines, logger: (level = 'info') => pino({ level }, sink) };
}
