import cliProgress from 'cli-progress';

/** A progress display of one phase (upload in bytes, processing in rows). */
export type ProgressBar = {
  update(value: number, total: number | null, note?: string): void;
  stop(): void;
};

type Unit = 'bytes' | 'rows';

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** Which of BYTE_UNITS shows `n` bytes: the largest that keeps it at 1 or more. */
function byteUnitOf(n: number): number {
  let i = 0;
  while (i < BYTE_UNITS.length - 1 && n >= 1024 ** (i + 1)) i++;
  return i;
}

/** `n` bytes as a number in BYTE_UNITS[i] (whole bytes, else one decimal). */
const inByteUnit = (n: number, i: number) => (i === 0 ? String(n) : (n / 1024 ** i).toFixed(1));

/** Formats a value in its unit: bytes as B/KB/MB/GB, rows with thousands separators. */
export function formatAmount(n: number, unit: Unit): string {
  if (unit === 'rows') return `${n.toLocaleString('en-US')} rows`;
  const i = byteUnitOf(n);
  return `${inByteUnit(n, i)} ${BYTE_UNITS[i]}`;
}

/**
 * "value of total", both in the total's unit: 64 KB of 15.3 MB is "0.1 of 15.3 MB", never
 * "64.0 of 15.3 MB". Without a total (a pipe's upload), the value alone in its own unit.
 */
export function formatProgress(value: number, total: number | null, unit: Unit): string {
  if (total === null) return formatAmount(value, unit);
  if (unit === 'rows') return `${value.toLocaleString('en-US')} of ${formatAmount(total, unit)}`;
  return `${inByteUnit(value, byteUnitOf(total))} of ${formatAmount(total, unit)}`;
}

const percentOf = (value: number, total: number | null) => (total ? Math.min(100, Math.floor((value / total) * 100)) : null);

/**
 * A bar on stderr when it is a terminal (cli-progress); otherwise plain lines, one per 10 % step
 * or every 2 s at most, so logs and CI output stay short.
 */
export function createProgressBar(label: string, unit: Unit, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  return stream.isTTY ? terminalBar(label, unit, stream) : plainLines(label, unit, stream);
}

function terminalBar(label: string, unit: Unit, stream: NodeJS.WriteStream): ProgressBar {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      hideCursor: true,
      barsize: 30,
      format: (options, params, payload: { text: string }) => {
        const filled = Math.round(params.progress * (options.barsize ?? 30));
        const graph = params.total > 0 ? `[${'█'.repeat(filled)}${'░'.repeat((options.barsize ?? 30) - filled)}] ` : '';
        return `${label.padEnd(10)} ${graph}${payload.text}`;
      },
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(value, total, note) {
      const text = `${formatProgress(value, total, unit)}${total ? ` (${percentOf(value, total)}%)` : ''}${note ? `, ${note}` : ''}`;
      if (!started) bar.start(total ?? 0, value, { text });
      else {
        bar.setTotal(total ?? 0);
        bar.update(value, { text });
      }
      started = true;
    },
    stop: () => bar.stop(),
  };
}

function plainLines(label: string, unit: Unit, stream: NodeJS.WriteStream): ProgressBar {
  let lastStep = -1;
  let lastAt = 0;
  let last = '';
  const write = (line: string) => {
    stream.write(`${label}: ${line}\n`);
    last = line;
    lastAt = Date.now();
  };
  let current = '';
  return {
    update(value, total, note) {
      const percent = percentOf(value, total);
      current = `${formatProgress(value, total, unit)}${percent === null ? '' : ` (${percent}%)`}${note ? `, ${note}` : ''}`;
      const step = percent === null ? -1 : Math.floor(percent / 10);
      if (current !== last && (step > lastStep || Date.now() - lastAt >= 2_000)) {
        lastStep = Math.max(lastStep, step);
        write(current);
      }
    },
    stop() {
      if (current && current !== last) write(current);
    },
  };
}
