import { buildService } from './support.js';

/**
 * `npm run bench [-- commands|imports|sync|search|backends]`: runs the benchmarks and prints their figures and ratios.
 * Figures are measured side by side in one run; the machine is noisy, so compare ratios.
 */
const suites: Record<string, () => Promise<void>> = {
  commands: async () => (await import('./commands.bench.js')).runCommandsBench(),
  imports: async () => (await import('./imports.bench.js')).runImportsBench(),
  sync: async () => (await import('./sync.bench.js')).runSyncBench(),
  search: async () => (await import('./search.bench.js')).runSearchBench(),
  backends: async () => (await import('./backends.bench.js')).runBackendsBench(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !suites[w]);
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}`);
  process.exit(2);
}
buildService();
for (const name of wanted.length ? wanted : Object.keys(suites)) {
  console.log(`\n=== ${name} ===`);
  await suites[name]!();
}
process.exit(0);
