import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layout rules of STYLE.md and issue 12, checked on every run: no import cycles (type imports
 * included), no loose files at the root of src/ besides the entry points, no file past ~300 lines.
 */

const ROOTS = ['src', 'workers'];
const ENTRY_POINTS = new Set(['src/main.ts', 'src/api.ts']);
const MAX_LINES = 300;

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return filesUnder(full);
    return name.endsWith('.ts') ? [full] : [];
  });

const sources = ROOTS.flatMap(filesUnder);

/** The project files a source imports (`import`, `import type`, `export … from`, dynamic `import()`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((spec) => path.normalize(path.join(path.dirname(file), spec.replace(/\.js$/, '.ts'))));
}

/** Strongly connected components of more than one file (or a file importing itself): the cycles. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!order.has(v)) visit(v);
  return found;
}

describe('the layout', () => {
  it('has no import cycles in src/ and workers/, type imports included', () => {
    const graph = new Map(sources.map((file) => [file, importsOf(file)]));
    expect(cycles(graph)).toEqual([]);
  });

  it('keeps only the entry points at the root of src/', () => {
    const loose = sources.filter((f) => path.dirname(f) === 'src' && !ENTRY_POINTS.has(f));
    expect(loose).toEqual([]);
  });

  it(`keeps every source file within about ${MAX_LINES} lines`, () => {
    const long = sources.filter((f) => readFileSync(f, 'utf8').split('\n').length > MAX_LINES + 20);
    expect(long).toEqual([]);
  });

  it('finds the cycles it is meant to find', () => {
    expect(cycles(new Map([['a', ['b']], ['b', ['a']], ['c', ['a']]]))).toEqual([['a', 'b']]);
  });
});
