import cliProgress from 'cli-progress';

/** A progress display of one phase (upload in bytes, processing in rows). */
export type ProgressBar = {
  update(value: number, total: number | null, note?: string): void;
  stop(): void;
};

/** Formats a value in its unit: bytes as KB/MB/GB, rows with thousands separators. */
export function formatAmount(n: number, unit: 'bytes' | 'rows'): string {
  if (unit === 'rows') return `${n.toLocaleString('en-US')} rows`;
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  for (; v >= 1024 && i < units.length - 1; i++) v /= 1024;
  return `${v.toFixed(1)} ${units[i]}`;
}

const describe = (value: number, total: number | null, unit: 'bytes' | 'rows') =>
  total === null ? formatAmount(value, unit) : `${formatAmount(value, unit).replace(/ (rows|B|KB|MB|GB|TB)$/, '')} of ${formatAmount(total, unit)}`;

const percentOf = (value: number, total: number | null) => (total ? Math.min(100, Math.floor((value / total) * 100)) : null);

/**
 * A bar on stderr when it is a terminal (cli-progress); otherwise plain lines, one per 10 % step
 * or every 2 s at most, so logs and CI output stay short.
 */
export function createProgressBar(label: string, unit: 'bytes' | 'rows', stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  return stream.isTTY ? terminalBar(label, unit, stream) : plainLines(label, unit, stream);
}

function terminalBar(label: string, unit: 'bytes' | 'rows', stream: NodeJS.WriteStream): ProgressBar {
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
      const text = `${describe(value, total, unit)}${total ? ` (${percentOf(value, total)}%)` : ''}${note ? `, ${note}` : ''}`;
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

function plainLines(label: string, unit: 'bytes' | 'rows', stream: NodeJS.WriteStream): ProgressBar {
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
      current = `${describe(value, total, unit)}${percent === null ? '' : ` (${percent}%)`}${note ? `, ${note}` : ''}`;
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
