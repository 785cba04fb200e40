// The README is code, and so are the docs it sends users to (docs/testing.md, docs/sample-app.md,
// docs/module-formats.md, docs/exchange.md, docs/both-sides.md). Every ```ts and ```js block is extracted and type-checked against the
// built package (imported by its own name, which resolves through package.json `exports` to dist/)
// with the @types a user installs, under the options `tsc --init` writes (strict, plus
// noUncheckedIndexedAccess and exactOptionalPropertyTypes); JavaScript blocks through checkJs.
// Blocks that are whole programs then run: Vitest files with Vitest, the Quickstart as a server
// against the emulator, the rest with Node. The TypeScript blocks (but Vitest files, which Vitest
// compiles itself) are also compiled as part of a CommonJS project (an `npm init -y` folder) and
// the Quickstart runs there too. Needs dist/ (the global setup builds it when missing).
//
// A block that is a fragment (it uses names defined elsewhere in the README) carries, right above
// its fence, a hidden comment with the declarations it needs, in the block's language:
//   <!-- readme-check prelude:
//   declare const options: PersonaStrategyOptions;
//   -->
// Such a block is only type-checked. The Quickstart is marked `<!-- readme-check: server -->`.
//
// docs/frameworks.md's blocks (the Fastify, Koa, NestJS and node:http recipes) are type-checked
// the same way, with the decorator options `nest new` adds; their apps run in test/frameworks/.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distFile } from './helpers/build.js';
import { startPersonaEmulator, type PersonaEmulator } from '../src/testing/index.js';
import { freePort } from './example-app/helpers.js';

const root = fileURLToPath(new URL('../', import.meta.url));
/** The Markdown files whose blocks are checked: the README first, then the docs it links to. */
const DOCUMENTS = [
  'README.md',
  'docs/testing.md',
  'docs/sample-app.md',
  'docs/module-formats.md',
  'docs/exchange.md',
  'docs/both-sides.md',
];

interface Block {
  /** The Markdown file the block is in, e.g. `README.md`. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The heading the block sits under. */
  section: string;
  lang: 'ts' | 'js';
  code: string;
  prelude: string | undefined;
  server: boolean;
  file: string;
}

const LANGS: Record<string, 'ts' | 'js'> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' };

function fileNameOf(doc: string, line: number, lang: 'ts' | 'js', code: string): string {
  const usesVitest = /from 'vitest'/.test(code);
  const base = `${doc.replace(/\.md$/, '').replace(/\W+/g, '-')}-L${line}`;
  if (lang === 'ts') return `${base}${usesVitest ? '.test' : ''}.ts`;
  return `${base}.${/\brequire\(/.test(code) && !/^import /m.test(code) ? 'cjs' : 'mjs'}`;
}

/** Every ts/js block of a Markdown file, with its marker comment if any. */
function extractBlocks(markdown: string, doc = 'README.md'): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let section = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? '';
    const heading = /^#{1,4} (.+)$/.exec(text);
    if (heading?.[1]) section = heading[1];
    const fence = /^```(\w*)\s*$/.exec(text);
    if (!fence) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
    const lang = LANGS[fence[1] ?? ''];
    if (lang) {
      const code = lines.slice(i + 1, end).join('\n');
      const marker = markerAbove(lines, i);
      blocks.push({
        doc,
        line: i + 1,
        section,
        lang,
        code,
        prelude: marker?.prelude,
        server: marker?.server ?? false,
        file: fileNameOf(doc, i + 1, lang, code),
      });
    }
    i = end;
  }
  return blocks;
}

/** The `<!-- readme-check … -->` comment that ends on the line right above a fence, if any. */
function markerAbove(lines: string[], fenceIndex: number): { prelude?: string; server?: boolean } | undefined {
  if (!(lines[fenceIndex - 1] ?? '').trimEnd().endsWith('-->')) return undefined;
  let start = fenceIndex - 1;
  while (start >= 0 && !(lines[start] ?? '').includes('<!--')) start--;
  const comment = lines.slice(start, fenceIndex).join('\n');
  const match = /^<!-- readme-check(?::\s*(server)\s*| prelude:\n([\s\S]*?))-->$/.exec(comment.trim());
  if (!match) return undefined;
  return match[1] ? { server: true } : { prelude: match[2] ?? '' };
}

const blocks = DOCUMENTS.flatMap((doc) => extractBlocks(readFileSync(join(root, doc), 'utf8'), doc));
/** The blocks compiled again in a CommonJS project: TypeScript, not Vitest files. */
const commonJsBlocks = blocks.filter((block) => block.lang === 'ts' && !block.file.endsWith('.test.ts'));
const FRAMEWORKS_DOC = readFileSync(join(root, 'docs/frameworks.md'), 'utf8');
// Compiled on their own: NestJS's recipes need decorators, which no other block uses.
const frameworkBlocks = extractBlocks(FRAMEWORKS_DOC, 'docs/frameworks.md').map((block) => ({
  ...block,
  file: `frameworks-${block.file}`,
}));
const work = join(root, 'test-output', `readme-${process.pid}`);
const out = join(work, 'out');
/** The same TypeScript blocks in a folder whose package.json says nothing of modules: CommonJS. */
const cjsWork = join(work, 'commonjs');
const cjsOut = join(cjsWork, 'out');
/** Type errors per block file (`cjs:` in front for the CommonJS project), as Markdown locations. */
const problems = new Map<string, string[]>();

function preludeLines(block: Block): number {
  return block.prelude === undefined ? 0 : block.prelude.split('\n').length;
}

function sourceOf(block: Block): string {
  return block.prelude === undefined ? `${block.code}\n` : `${block.prelude}\n${block.code}\n`;
}

/** What `tsc --init` (TypeScript 5.9) turns on, plus JavaScript checking and an output to run. */
const COMPILER_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  types: ['node'],
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  noUncheckedSideEffectImports: true,
  moduleDetection: ts.ModuleDetectionKind.Force,
  skipLibCheck: true,
  allowJs: true,
  checkJs: true,
  rootDir: work,
  outDir: out,
};

/**
 * The same options in a CommonJS project, where `import` compiles to `require`: that needs
 * `verbatimModuleSyntax` off (with it on, TypeScript refuses ESM syntax in a CommonJS file).
 */
const COMMONJS_OPTIONS: ts.CompilerOptions = {
  ...COMPILER_OPTIONS,
  verbatimModuleSyntax: false,
  esModuleInterop: true,
  rootDir: cjsWork,
  outDir: cjsOut,
};

function typeCheckAndEmit(dir: string, checked: Block[], options: ts.CompilerOptions, key = ''): void {
  const program = ts.createProgram(
    checked.map((block) => join(dir, block.file)),
    options,
  );
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const block = checked.find(
      (candidate) => diagnostic.file?.fileName === join(dir, candidate.file).replace(/\\/g, '/'),
    );
    if (!block || !diagnostic.file || diagnostic.start === undefined) {
      const list = problems.get(key) ?? [];
      list.push(`TS${diagnostic.code}: ${message}`);
      problems.set(key, list);
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const inPrelude = line < preludeLines(block);
    const where = inPrelude
      ? `the readme-check prelude above ${block.doc}:${block.line}`
      : `${block.doc}:${block.line + 1 + line - preludeLines(block)}`;
    const list = problems.get(key + block.file) ?? [];
    list.push(`${where}: TS${diagnostic.code}: ${message}`);
    problems.set(key + block.file, list);
  }
}

/** Type errors per docs/frameworks.md block, as docs locations (nothing is emitted). */
function typeCheckFrameworkDocs(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const options: ts.CompilerOptions = {
    ...COMPILER_OPTIONS,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    noEmit: true,
  };
  const program = ts.createProgram(
    frameworkBlocks.map((block) => join(work, block.file)),
    options,
  );
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const block = frameworkBlocks.find(
      (candidate) => diagnostic.file?.fileName === join(work, candidate.file).replace(/\\/g, '/'),
    );
    const line =
      diagnostic.file && diagnostic.start !== undefined
        ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line
        : -1;
    const key = block?.file ?? '';
    const where = block ? `docs/frameworks.md:${block.line + 1 + line - preludeLines(block)}` : 'outside any block';
    found.set(key, [...(found.get(key) ?? []), `${where}: TS${diagnostic.code}: ${message}`]);
  }
  return found;
}
let frameworkProblems = new Map<string, string[]>();

interface Run {
  code: number | null;
  output: string;
}

function runNode(file: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [file],
      { cwd: work, env: { ...process.env, ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          output: `${stdout}${stderr}`,
        });
      },
    );
  });
}

/** The Vitest blocks, run by a child Vitest (one run for all of them); results per file. */
let vitestResults: Map<string, { status: string; tests: number; failures: string[] }> | undefined;
let vitestOutput = '';

async function runVitestBlocks(): Promise<void> {
  const files = blocks.filter((block) => block.file.endsWith('.test.ts') && block.prelude === undefined);
  if (files.length === 0) return;
  // Written synchronously, so the child starts before this function first yields (see beforeAll).
  writeFileSync(join(work, 'vitest.config.mjs'), "export default { test: { include: ['*.test.ts'] } };\n");
  const report = join(work, 'vitest-report.json');
  const vitest = join(root, 'node_modules/vitest/vitest.mjs');
  const run = await new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      [vitest, 'run', '--root', work, '--config', 'vitest.config.mjs', '--reporter=json', `--outputFile=${report}`],
      { cwd: work, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? 1 : 0, output: `${stdout}${stderr}` }),
    );
  });
  vitestOutput = run.output;
  if (!existsSync(report)) return;
  const json = JSON.parse(await readFile(report, 'utf8')) as {
    testResults: Array<{
      name: string;
      status: string;
      assertionResults: Array<{ title: string; status: string; failureMessages: string[] }>;
    }>;
  };
  vitestResults = new Map(
    json.testResults.map((result) => [
      result.name.split(/[\\/]/).at(-1) ?? '',
      {
        status: result.status,
        tests: result.assertionResults.length,
        failures: result.assertionResults
          .filter((test) => test.status !== 'passed')
          .map((test) => `${test.title}: ${test.failureMessages.join('\n').split('\n').slice(0, 6).join('\n')}`),
      },
    ]),
  );
}

beforeAll(async () => {
  distFile('esm/index.d.ts'); // built by the global setup (test/setup/build.ts)
  await rm(work, { recursive: true, force: true });
  await mkdir(cjsWork, { recursive: true });
  for (const block of blocks) await writeFile(join(work, block.file), sourceOf(block));
  for (const block of frameworkBlocks) await writeFile(join(work, block.file), sourceOf(block));
  // An `npm init -y` project: no "type", so .ts files are CommonJS.
  await writeFile(join(cjsWork, 'package.json'), '{ "name": "commonjs-app", "version": "1.0.0" }\n');
  // As installed: node_modules/passport-withpersona is the package (this checkout, built).
  await mkdir(join(cjsWork, 'node_modules'));
  await symlink(root, join(cjsWork, 'node_modules', 'passport-withpersona'), 'dir');
  for (const block of commonJsBlocks) await writeFile(join(cjsWork, block.file), sourceOf(block));
  // The child Vitest compiles the Vitest blocks itself: it runs while this process type-checks.
  const vitestBlocks = runVitestBlocks();
  typeCheckAndEmit(work, blocks, COMPILER_OPTIONS);
  typeCheckAndEmit(cjsWork, commonJsBlocks, COMMONJS_OPTIONS, 'cjs:');
  frameworkProblems = typeCheckFrameworkDocs();
  await vitestBlocks;
}, 180_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const label = (block: Block): string => `${block.doc}:${block.line} (${block.lang}, under "${block.section}")`;

describe('README code blocks', () => {
  it('finds the blocks, the Quickstart server among them', () => {
    expect(blocks.length).toBeGreaterThan(10);
    expect(blocks.filter((block) => block.server)).toHaveLength(1);
    expect(problems.get(''), 'errors outside any block').toBeUndefined();
    expect(problems.get('cjs:'), 'errors outside any block, in the CommonJS project').toBeUndefined();
    expect(new Set(blocks.map((block) => block.doc))).toEqual(new Set(DOCUMENTS));
  });

  it.each(blocks.map((block) => [label(block), block] as const))('%s type-checks (strict)', (_label, block) => {
    expect(problems.get(block.file) ?? [], `${label(block)} does not compile`).toEqual([]);
  });

  it.each(commonJsBlocks.map((block) => [label(block), block] as const))(
    '%s type-checks (strict) in a CommonJS project',
    (_label, block) => {
      expect(problems.get(`cjs:${block.file}`) ?? [], `${label(block)} does not compile as CommonJS`).toEqual([]);
    },
  );

  const programs = blocks.filter((block) => block.prelude === undefined && !block.server);
  it.each(programs.map((block) => [label(block), block] as const))('%s runs', async (_label, block) => {
    if (block.file.endsWith('.test.ts')) {
      const result = vitestResults?.get(block.file);
      expect(result, `no Vitest result for ${label(block)}:\n${vitestOutput}`).toBeDefined();
      expect(result?.failures, `${label(block)} as a Vitest file`).toEqual([]);
      expect(result?.status).toBe('passed');
      expect(result?.tests, 'tests run').toBeGreaterThan(0);
      return;
    }
    const run = await runNode(join(out, block.file.replace(/\.ts$/, '.js')));
    expect(run.code, `${label(block)} exited with ${run.code}:\n${run.output}`).toBe(0);
  });

  const commonJsPrograms = commonJsBlocks.filter((block) => block.prelude === undefined && !block.server);
  it.each(commonJsPrograms.map((block) => [label(block), block] as const))(
    '%s runs in a CommonJS project',
    async (_label, block) => {
      const run = await runNode(join(cjsOut, block.file.replace(/\.ts$/, '.js')));
      expect(run.code, `${label(block)} exited with ${run.code} as CommonJS:\n${run.output}`).toBe(0);
    },
  );
});

describe('docs/frameworks.md code blocks', () => {
  it('has a recipe for Fastify, Koa, NestJS and node:http, and no error outside them', () => {
    const imports = frameworkBlocks.map((block) => block.code).join('\n');
    for (const framework of ['@fastify/passport', 'koa-passport', '@nestjs/passport', 'node:http']) {
      expect(imports).toContain(`from '${framework}'`);
    }
    expect(frameworkProblems.get(''), 'errors outside any block').toBeUndefined();
  });

  it.each(
    frameworkBlocks.map((block) => [`docs/frameworks.md:${block.line} (under "${block.section}")`, block] as const),
  )('%s type-checks (strict)', (where, block) => {
    expect(frameworkProblems.get(block.file) ?? [], `${where} does not compile`).toEqual([]);
  });
});

describe('docs/emulator.md', () => {
  it('shows the same Vitest file as docs/testing.md, which runs above', () => {
    const firstVitestFile = (doc: string): string | undefined =>
      extractBlocks(readFileSync(join(root, doc), 'utf8'), doc).find((block) => block.file.endsWith('.test.ts'))?.code;
    const inTesting = firstVitestFile('docs/testing.md');
    expect(inTesting).toContain('startPersonaEmulator');
    expect(
      firstVitestFile('docs/emulator.md'),
      'docs/emulator.md "Testing your own app" differs from docs/testing.md',
    ).toBe(inTesting);
  });
});

describe.each([
  ['an ES-module project', out, work],
  ['a CommonJS project', cjsOut, cjsWork],
])('the Quickstart, run as a server against the emulator in %s', (_project, outDir, cwd) => {
  const server = blocks.find((block) => block.server);
  const script = join(outDir, (server?.file ?? '').replace(/\.ts$/, '.js'));
  let emulator: PersonaEmulator;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    emulator = await startPersonaEmulator();
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await emulator?.close();
  });

  it('fails fast, naming the variable, when one is missing', async () => {
    const run = await runNode(script, { PERSONA_API_KEY: '', SESSION_SECRET: 'x'.repeat(32), PORT: '0' });
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/PERSONA_API_KEY/);
  });

  it('signs in with a shared code (state checked), reads the shared inquiry, and refuses another with 403', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [script], {
      cwd,
      env: {
        ...process.env,
        PERSONA_API_KEY: emulator.recipient.apiKey,
        PERSONA_BASE_URL: emulator.url,
        SESSION_SECRET: 'a quickstart secret of some length',
        PORT: String(port),
      },
      stdio: 'ignore',
    });
    await waitUntilListening(port);
    const base = `http://127.0.0.1:${port}`;
    const [shared, other] = emulator.owner.inquiries;
    if (!shared || !other) throw new Error('the emulator seeds at least two inquiries');

    const start = await request(`${base}/auth/persona`);
    expect(start.statusCode).toBe(302);
    const share = new URL(String(start.headers.location));
    const state = share.searchParams.get('state');
    expect(state).toBeTruthy();
    let cookie = cookieOf(start.headers['set-cookie']);

    const { code } = emulator.createAuthorization({ scope: `inquiry.read:${shared.id}` });
    const callback = await request(
      `${base}/auth/persona/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state ?? '')}`,
      { headers: { cookie } },
    );
    expect(callback.statusCode).toBe(303);
    expect(callback.headers.location).toBe('/profile');
    expect(callback.headers['cache-control']).toBe('no-store');
    expect(callback.headers['referrer-policy']).toBe('no-referrer');
    cookie = cookieOf(callback.headers['set-cookie']) || cookie;

    const profile = await request(`${base}/profile`, { headers: { cookie } });
    expect(profile.statusCode).toBe(200);
    expect(JSON.stringify(await profile.body.json())).toContain(shared.id);

    const inquiry = await request(`${base}/inquiries/${shared.id}`, { headers: { cookie } });
    expect(inquiry.statusCode).toBe(200);
    expect(JSON.stringify(await inquiry.body.json())).toContain(shared.id);

    const refused = await request(`${base}/inquiries/${other.id}`, { headers: { cookie } });
    expect(refused.statusCode).toBe(403);
    expect(await refused.body.json()).toMatchObject({ error: 'insufficient_scope' });
  });
});

function cookieOf(header: string | string[] | undefined): string {
  return [header ?? []]
    .flat()
    .map((line) => line.split(';')[0] ?? '')
    .join('; ');
}

async function waitUntilListening(port: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`the Quickstart did not listen on ${port} within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
