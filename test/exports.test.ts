// The public surface is exactly what the README documents: every export of the two entry points
// has a row in the README's "API at a glance" table of its entry point, and every name there is
// exported. Read from the sources with the TypeScript compiler (values and types alike).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const ENTRY_POINTS = {
  'passport-withpersona': 'src/index.ts',
  'passport-withpersona/testing': 'src/testing/index.ts',
} as const;
type EntryPoint = keyof typeof ENTRY_POINTS;

function exportedNames(): Record<EntryPoint, string[]> {
  // Every source file, and nothing else: the entry points name what they export, so the program
  // needs neither the standard library nor the dependencies' declarations (five times the work).
  // Whether each export resolves is the type-check's job (scripts/typecheck.mjs).
  const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(root, 'src', file));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noResolve: true,
    noLib: true,
    types: [],
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const result = {} as Record<EntryPoint, string[]>;
  for (const [entry, file] of Object.entries(ENTRY_POINTS) as [EntryPoint, string][]) {
    const source = program.getSourceFile(join(root, file));
    const symbol = source && checker.getSymbolAtLocation(source);
    if (!symbol) throw new Error(`cannot read the exports of ${file}`);
    result[entry] = checker
      .getExportsOfModule(symbol)
      .map((exported) => exported.name)
      .sort();
  }
  return result;
}

/** The names in the first column of each entry point's table under "## API at a glance". */
function documentedNames(readme: string): Record<EntryPoint, string[]> {
  const start = readme.indexOf('\n## API at a glance\n');
  if (start < 0) throw new Error('README.md has no "## API at a glance" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const result: Record<EntryPoint, string[]> = { 'passport-withpersona': [], 'passport-withpersona/testing': [] };
  let entry: EntryPoint | undefined;
  for (const line of section.split('\n')) {
    const heading = /^`(passport-withpersona(?:\/testing)?)`/.exec(line);
    if (heading) entry = heading[1] as EntryPoint;
    const cell = /^\| (`[^|]*`) \|/.exec(line);
    if (entry && cell?.[1]) {
      for (const name of cell[1].matchAll(/`(\w+)`/g)) result[entry].push(name[1] as string);
    }
  }
  for (const names of Object.values(result)) names.sort();
  return result;
}

describe('the public surface', () => {
  const exported = exportedNames();
  const documented = documentedNames(readFileSync(join(root, 'README.md'), 'utf8'));

  it.each(Object.keys(ENTRY_POINTS) as EntryPoint[])(
    '%s: every export has a row in the README, and nothing else does',
    (entry) => {
      const missing = exported[entry].filter((name) => !documented[entry].includes(name));
      const extra = documented[entry].filter((name) => !exported[entry].includes(name));
      expect(missing, `exported from ${entry} but not in the README's "API at a glance" table: add a row`).toEqual([]);
      expect(extra, `in the README's "API at a glance" table for ${entry} but not exported`).toEqual([]);
      const repeated = documented[entry].filter((name, i, all) => all.indexOf(name) !== i);
      expect(repeated, `listed more than once in the README's "API at a glance" table for ${entry}`).toEqual([]);
      expect(exported[entry].length).toBeGreaterThan(5);
    },
  );

  it('no longer exports the internals dropped before 1.0', () => {
    for (const name of [
      'idempotencyKeyFor',
      'readCallbackInput',
      'CallbackInput',
      'parseTokenResponse',
      'ParseTokenContext',
      'SessionStateStore',
      'SignedStateStore',
      'ExchangeConfig',
      // Cut from the surface in 0.2.0: internal, or said by a type users already have.
      'redact',
      'VERSION',
      'isSafeReturnTo',
      'parseScopes',
      'formatScopes',
      'PersonaOAuthErrorInit',
      'KeyInflection',
      'PersonaScopeLike',
      'ExpiringScopeHolder',
      'ScopedRequest',
      'Middleware',
      'PersonaAuthenticateOptions',
      'PersonaAuthInfo',
      'PersonaVerifyCallback',
      'PersonaVerifyResult',
    ]) {
      expect(exported['passport-withpersona']).not.toContain(name);
    }
  });
});
