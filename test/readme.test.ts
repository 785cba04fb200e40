// The README is code. Every ```ts and ```js block is extracted and type-checked against the built
// package (imported by its own name, which resolves through package.json `exports` to dist/) with
// the @types a user installs, under the options `tsc --init` writes (strict, plus
// noUncheckedIndexedAccess and exactOptionalPropertyTypes); JavaScript blocks through checkJs.
// Blocks that are whole programs then run: Vitest files with Vitest, the Quickstart as a server
// against the emulator, the rest with Node. Needs dist/ (`npm test` builds it first).
//
// A block that is a fragment (it uses names defined elsewhere in the README) carries, right above
// its fence, a hidden comment with the declarations it needs, in the block's language:
//   <!-- readme-check prelude:
//   declare const options: PersonaStrategyOptions;
//   -->
// Such a block is only type-checked. The Quickstart is marked `<!-- readme-check: server -->`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
const README = readFileSync(join(root, 'README.md'), 'utf8');

interface Block {
  /** 1-based README line of the opening fence. */
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

function fileNameOf(line: number, lang: 'ts' | 'js', code: string): string {
  const usesVitest = /from 'vitest'/.test(code);
  if (lang === 'ts') return `block-L${line}${usesVitest ? '.test' : ''}.ts`;
  return `block-L${line}.${/\brequire\(/.test(code) && !/^import /m.test(code) ? 'cjs' : 'mjs'}`;
}

/** Every ts/js block of the README, with its marker comment if any. */
function extractBlocks(markdown: string): Block[] {
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
        line: i + 1,
        section,
        lang,
        code,
        prelude: marker?.prelude,
        server: marker?.server ?? false,
        file: fileNameOf(i + 1, lang, code),
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

const blocks = extractBlocks(README);
const work = join(root, 'test-output', `readme-${process.pid}`);
const out = join(work, 'out');
/** Type errors per block file, as README locations. */
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

function typeCheckAndEmit(): void {
  const files = blocks.map((block) => join(work, block.file));
  const program = ts.createProgram(files, COMPILER_OPTIONS);
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const block = blocks.find(
      (candidate) => diagnostic.file?.fileName === join(work, candidate.file).replace(/\\/g, '/'),
    );
    if (!block || !diagnostic.file || diagnostic.start === undefined) {
      const list = problems.get('') ?? [];
      list.push(`TS${diagnostic.code}: ${message}`);
      problems.set('', list);
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const inPrelude = line < preludeLines(block);
    const where = inPrelude
      ? `the readme-check prelude above README.md:${block.line}`
      : `README.md:${block.line + 1 + line - preludeLines(block)}`;
    const list = problems.get(block.file) ?? [];
    list.push(`${where}: TS${diagnostic.code}: ${message}`);
    problems.set(block.file, list);
  }
}

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
  await writeFile(join(work, 'vitest.config.mjs'), "export default { test: { include: ['*.test.ts'] } };\n");
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
  await mkdir(work, { recursive: true });
  for (const block of blocks) await writeFile(join(work, block.file), sourceOf(block));
  typeCheckAndEmit();
  await runVitestBlocks();
}, 180_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const label = (block: Block): string => `README.md:${block.line} (${block.lang}, under "${block.section}")`;

describe('README code blocks', () => {
  it('finds the blocks, the Quickstart server among them', () => {
    expect(blocks.length).toBeGreaterThan(10);
    expect(blocks.filter((block) => block.server)).toHaveLength(1);
    expect(problems.get(''), 'errors outside any block').toBeUndefined();
  });

  it.each(blocks.map((block) => [label(block), block] as const))('%s type-checks (strict)', (_label, block) => {
    expect(problems.get(block.file) ?? [], `${label(block)} does not compile`).toEqual([]);
  });

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
});

describe('docs/emulator.md', () => {
  it('shows the same Vitest file as the README, which runs above', () => {
    const firstVitestFile = (markdown: string): string | undefined =>
      extractBlocks(markdown).find((block) => block.file.endsWith('.test.ts'))?.code;
    const docs = readFileSync(join(root, 'docs/emulator.md'), 'utf8');
    const inReadme = firstVitestFile(README);
    expect(inReadme).toContain('startPersonaEmulator');
    expect(firstVitestFile(docs), 'docs/emulator.md "Testing your own app" differs from the README\'s').toBe(inReadme);
  });
});

describe('the Quickstart, run as a server against the emulator', () => {
  const server = blocks.find((block) => block.server);
  const script = join(out, (server?.file ?? '').replace(/\.ts$/, '.js'));
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
      cwd: work,
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
    expect(callback.statusCode).toBe(302);
    expect(callback.headers.location).toBe('/profile');
    cookie = cookieOf(callback.headers['set-cookie']) || cookie;

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
