/**
 * The import rules of docs/architecture.md ("Boundaries"), checked over the TypeScript
 * compiler's view of every import (type imports and re-exports included) in src/, ledger/ and
 * projections/. A new import that crosses a boundary fails here, naming the file and the rule.
 *
 * ALLOWED lists the violations that remain on this branch, each with its reason; work in
 * progress elsewhere removes them, and then their lines go (a listed violation that no longer
 * occurs fails too, so the list cannot go stale).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCANNED = ['src', 'ledger', 'projections'];

/** Violations that remain, as `rule: from -> to`, each with why it is still there (none left). */
const ALLOWED: Record<string, string> = {};

type Layer = 'context' | 'edge' | 'infrastructure';

interface Placement {
  layer: Layer;
  /** The context's folder name (src/modules/<context>/). */
  context?: string;
}

/** Files of a context that serve HTTP, and so sit at the edge: route files, and these. */
const CONTEXT_EDGE_FILES = new Set([
  // The authentication and access hook over every route (registered before any route).
  'src/modules/identity/auth-hook.ts',
  // GET /v1/track/{token} and the tracking page.
  'src/modules/orders/tracking.ts',
]);

/** Public files of a context besides its index.ts (none yet: everything goes through the index). */
const PUBLIC_FILES = new Set<string>([]);

/** The composition root and the programs that start it. */
const EDGE = /^src\/(app|server|boot|services)\.ts$|^src\/(cli|seed|http)\//;
const INFRASTRUCTURE =
  /^(ledger|projections)\/|^src\/(eventstore|db|jobs|realtime|platform|shared|config|telemetry)\/|^src\/(runtime|logger)\.ts$/;

function place(sourceFile: string): Placement {
  // A unit test sits in the layer of the code it tests.
  const file = sourceFile.replace(/\.test\.ts$/, '.ts');
  const context = /^src\/modules\/([^/]+)\//.exec(file)?.[1];
  if (context !== undefined) {
    const routeFile = /(^|[/-])routes?([/.-])/.test(file.slice(`src/modules/${context}/`.length));
    return { layer: routeFile || CONTEXT_EDGE_FILES.has(file) ? 'edge' : 'context', context };
  }
  if (EDGE.test(file)) return { layer: 'edge' };
  if (INFRASTRUCTURE.test(file)) return { layer: 'infrastructure' };
  throw new Error(`${file} is in no layer: add it to EDGE or INFRASTRUCTURE in this test`);
}

function sourceFiles(directory: string): string[] {
  return readdirSync(path.join(ROOT, directory)).flatMap((name) => {
    const relative = `${directory}/${name}`;
    if (statSync(path.join(ROOT, relative)).isDirectory())
      return name === 'migrations' ? [] : sourceFiles(relative);
    return /\.ts$/.test(name) && !/\.d\.ts$/.test(name) ? [relative] : [];
  });
}

/** The project files a file imports (static, type-only, re-exports and dynamic imports). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((imported) => imported.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      const candidates = [target.replace(/\.js$/, '.ts'), `${target}.ts`, `${target}/index.ts`];
      return candidates.find((candidate) => {
        try {
          return statSync(path.join(ROOT, candidate)).isFile();
        } catch {
          return false;
        }
      });
    })
    .filter((target): target is string => target !== undefined && !target.startsWith('..'));
}

interface Edge {
  from: string;
  to: string;
}

function importGraph(): Edge[] {
  return SCANNED.flatMap(sourceFiles).flatMap((from) => importsOf(from).map((to) => ({ from, to })));
}

function ruleViolations(edges: Edge[]): string[] {
  const found: string[] = [];
  for (const { from, to } of edges) {
    const source = place(from);
    const target =
      to.startsWith('src/') || to.startsWith('ledger/') || to.startsWith('projections/')
        ? place(to)
        : undefined;
    if (target === undefined) continue;
    const isTest = /\.test\.ts$/.test(from);
    if (source.layer === 'infrastructure' && target.context !== undefined)
      found.push(`infrastructure imports a context: ${from} -> ${to}`);
    if (source.layer !== 'edge' && to.startsWith('src/http/') && !isTest)
      found.push(`below the edge imports src/http: ${from} -> ${to}`);
    if (to === 'src/services.ts' && !/^src\/(app|server|boot|cli\/|seed\/)/.test(from))
      found.push(`imports the whole container: ${from} -> ${to}`);
    if (
      source.context !== undefined &&
      target.context !== undefined &&
      source.context !== target.context &&
      to !== `src/modules/${target.context}/index.ts` &&
      !PUBLIC_FILES.has(to)
    )
      found.push(`imports another context's internals: ${from} -> ${to}`);
  }
  return [...new Set(found)];
}

/** Cycles between contexts (strongly connected components of the context graph). */
function contextCycles(edges: Edge[]): string[] {
  const graph = new Map<string, Map<string, string>>();
  for (const { from, to } of edges) {
    const source = /^src\/modules\/([^/]+)\//.exec(from)?.[1];
    const target = /^src\/modules\/([^/]+)\//.exec(to)?.[1];
    if (source === undefined || target === undefined || source === target) continue;
    if (!graph.has(source)) graph.set(source, new Map());
    if (!graph.get(source)!.has(target)) graph.get(source)!.set(target, `${from} -> ${to}`);
  }
  // Tarjan's algorithm; every component of more than one context is a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[] = [];
  let counter = 0;
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (stack.includes(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        component.push(member);
      } while (member !== node);
      if (component.length > 1) {
        const members = component.sort();
        const witnesses = members.flatMap((source) =>
          members.flatMap((target) => graph.get(source)?.get(target) ?? []),
        );
        cycles.push(`cycle between contexts ${members.join(', ')}: ${witnesses.join('; ')}`);
      }
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

describe('import boundaries', () => {
  const edges = importGraph();
  const violations = [...ruleViolations(edges), ...contextCycles(edges)];

  it('reads the whole import graph', () => {
    expect(edges.length).toBeGreaterThan(500);
    expect(edges).toContainEqual({ from: 'src/services.ts', to: 'src/modules/orders/index.ts' });
  });

  it('no import crosses a boundary, except the listed ones that remain', () => {
    const unexpected = violations.filter((violation) => ALLOWED[violation] === undefined);
    expect(unexpected).toEqual([]);
  });

  it('every allowed violation still occurs (an emptied line leaves the list)', () => {
    const gone = Object.keys(ALLOWED).filter((violation) => !violations.includes(violation));
    expect(gone).toEqual([]);
  });

  it('the rules catch what they should', () => {
    const sample = (from: string, to: string) => ruleViolations([{ from, to }]);
    expect(sample('src/eventstore/reactor.ts', 'src/modules/orders/index.ts')).toHaveLength(1);
    expect(sample('projections/runner.ts', 'src/http/problem.ts')).toHaveLength(1);
    expect(sample('src/modules/payments/escrow.ts', 'src/modules/orders/decider.ts')).toEqual([
      "imports another context's internals: src/modules/payments/escrow.ts -> src/modules/orders/decider.ts",
    ]);
    expect(sample('src/modules/payments/escrow.ts', 'src/modules/orders/index.ts')).toEqual([]);
    expect(sample('src/modules/payments/routes.ts', 'src/http/problem.ts')).toEqual([]);
    expect(sample('src/modules/payments/escrow.ts', 'src/http/problem.ts')).toHaveLength(1);
    expect(sample('src/modules/orders/routes.ts', 'src/services.ts')).toHaveLength(1);
    expect(
      contextCycles([
        { from: 'src/modules/a/x.ts', to: 'src/modules/b/index.ts' },
        { from: 'src/modules/b/y.ts', to: 'src/modules/a/index.ts' },
      ]),
    ).toHaveLength(1);
  });
});
