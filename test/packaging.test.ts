/**
 * The package as a user gets it: `npm pack` in a checkout that has no dist/ yet (as a fresh
 * clone: `prepack` builds), then the tarball installed into fresh consumer projects (ES modules,
 * CommonJS, TypeScript 5 with `node16` and with `bundler` resolution, TypeScript 7 with
 * `nodenext` and `bundler`), each of which uses the strategy and the emulator. The README's
 * Quickstart, copied as it is into an empty ES-module project and an `npm init -y` (CommonJS)
 * one with what its install lines name, compiled with the options `tsc --init` writes and run:
 * it signs in against the emulator. Also publint and attw on the tarball, and no `any` in the
 * published declarations.
 *
 * The consumers install from npm's cache first (`--prefer-offline`): every dependency here but
 * TypeScript 7 is one this repository already installed, so the registry is asked only when the
 * cache is cold.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPersonaEmulator } from '../src/testing/index.js';
import { freePort } from './example-app/helpers.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(join(root, 'package.json'));
const tsc = require.resolve('typescript/bin/tsc');
const manifestOf = (name: string): { version: string; bin?: Record<string, string> } =>
  JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'));
const binOf = (name: string): string => {
  const [bin] = Object.values(manifestOf(name).bin ?? {});
  if (!bin) throw new Error(`${name} has no bin`);
  return join(root, 'node_modules', name, bin);
};
const publint = binOf('publint');
const attw = binOf('@arethetypeswrong/cli');
const ownVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// npm run sets npm_package_* and npm_config_local_prefix for this repository; a child npm
// must not inherit them, or it would treat this repository as the project to install into.
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_(package|lifecycle)_/i.test(name) || /^npm_config_(local_prefix|global|prefix)$/i.test(name)) continue;
    env[name] = value;
  }
  env.NO_COLOR = '1';
  return env;
}

function run(file: string, args: readonly string[], cwd: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: childEnv(), timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

const timings: Record<string, number> = {};
async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[label] = Math.round(performance.now() - started);
  }
}

// One script body for the ESM and the CommonJS consumer: a direct exchange, a failing one,
// and a full Passport round trip over HTTP, all against the bundled emulator.
const CONSUMER_BODY = `
const emulator = await startPersonaEmulator();
const inquiryId = emulator.owner.inquiries[0].id;
const strategy = new PersonaStrategy({ apiKey: emulator.recipient.apiKey, baseURL: emulator.url });
const exchanger = createCodeExchanger({ apiKey: emulator.recipient.apiKey, baseURL: emulator.url });
passport.use(strategy);
const server = createServer((req, res) => {
  passport.authenticate('persona', { session: false }, (err, user, info, status) => {
    res.setHeader('content-type', 'application/json');
    if (err) {
      res.statusCode = err.status ?? 500;
      res.end(JSON.stringify({ error: err.code }));
    } else if (!user) {
      res.statusCode = status ?? 401;
      res.end(JSON.stringify({ challenge: info.code }));
    } else {
      res.end(JSON.stringify({ objectIds: user.scopes.map((s) => s.objectId) }));
    }
  })(req, res, (err) => {
    res.statusCode = 500;
    res.end(String(err));
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const app = 'http://127.0.0.1:' + server.address().port;
try {
  const { code } = emulator.createAuthorization({ scope: ['inquiry.read:' + inquiryId] });
  const tokens = await exchanger.exchange(code);
  let failure;
  try {
    await exchanger.exchange('not-a-code');
  } catch (error) {
    failure = { persona: isPersonaOAuthError(error), code: error.code, status: error.status };
  }
  const second = emulator.createAuthorization({ scope: 'inquiry.read:' + inquiryId }).code;
  const ok = await fetch(app + '/auth/persona/callback?code=' + encodeURIComponent(second));
  const bad = await fetch(app + '/auth/persona/callback?code=unknown');
  console.log(JSON.stringify({
    resolved: RESOLVED,
    userAgent: emulator.requests.find((r) => r.endpoint === 'token')?.headers['user-agent'],
    inquiryId,
    tokenType: tokens.tokenType,
    granted: hasScope(tokens, 'inquiry.read', inquiryId),
    scopes: tokens.scopes.map((s) => s.permission + ':' + s.objectId),
    failure,
    passportOk: { status: ok.status, body: await ok.json() },
    passportBad: { status: bad.status, body: await bad.json() },
  }));
} finally {
  server.closeAllConnections();
  server.close();
  await strategy.close();
  await exchanger.close();
  await emulator.close();
}
`;

const ESM_CONSUMER = `import { createServer } from 'node:http';
import passport from 'passport';
import { PersonaStrategy, createCodeExchanger, hasScope, isPersonaOAuthError } from 'passport-withpersona';
import { startPersonaEmulator } from 'passport-withpersona/testing';
const RESOLVED = [import.meta.resolve('passport-withpersona'), import.meta.resolve('passport-withpersona/testing')];
${CONSUMER_BODY}`;

const CJS_CONSUMER = `'use strict';
const { createServer } = require('node:http');
const passport = require('passport');
const { PersonaStrategy, createCodeExchanger, hasScope, isPersonaOAuthError } = require('passport-withpersona');
const { startPersonaEmulator } = require('passport-withpersona/testing');
const RESOLVED = [require.resolve('passport-withpersona'), require.resolve('passport-withpersona/testing')];
(async () => {
${CONSUMER_BODY}
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

// Type-checked, never run. The two @ts-expect-error lines fail the check (as an unused
// directive) if the published types were loose enough to accept them.
const TS_CONSUMER = `import type { Request, Response } from 'express';
import passport from 'passport';
import {
  PersonaStrategy,
  createCodeExchanger,
  hasScope,
  isPersonaOAuthError,
  type PersonaScope,
  type PersonaTokenSet,
} from 'passport-withpersona';
import { startPersonaEmulator, type PersonaEmulator } from 'passport-withpersona/testing';

declare global {
  namespace Express {
    interface User extends PersonaTokenSet {}
  }
}

interface Partner {
  id: string;
  tokens: PersonaTokenSet;
}

export async function exchangeOnce(): Promise<string[]> {
  const emulator: PersonaEmulator = await startPersonaEmulator({ seed: 'consumer' });
  const strategy = new PersonaStrategy<Partner>(
    { apiKey: emulator.recipient.apiKey, baseURL: emulator.url, state: { signed: { secrets: ['x'.repeat(32)] } } },
    async (tokens) => ({ id: tokens.scopes[0]?.objectId ?? 'none', tokens }),
  );
  passport.use(strategy);
  try {
    const inquiry = emulator.owner.inquiries[0];
    if (!inquiry) throw new Error('no inquiry');
    const { code } = emulator.createAuthorization({ scope: [\`inquiry.read:\${inquiry.id}\`] });
    const exchanger = createCodeExchanger({ apiKey: emulator.recipient.apiKey, baseURL: emulator.url });
    const tokens: PersonaTokenSet = await exchanger.exchange(code).finally(() => exchanger.close());
    const scopes: PersonaScope[] = tokens.scopes;
    return scopes.map((scope) => scope.objectId);
  } catch (error) {
    if (isPersonaOAuthError(error)) throw new Error(\`\${error.code} (\${error.status})\`);
    throw error;
  } finally {
    await strategy.close();
    await emulator.close();
  }
}

// With the augmentation, req.user is the token set in every handler.
export function profile(req: Request, res: Response): void {
  const user = req.user;
  if (!user || !hasScope(user, 'inquiry.read')) {
    res.sendStatus(403);
    return;
  }
  const expiresAt: number = user.expiresAt;
  res.json({ tokenLength: user.accessToken.length, expiresAt });
}

export const withRequest = new PersonaStrategy<Partner>(
  { apiKey: 'key', passReqToCallback: true },
  (req, tokens, done) => done(null, { id: req.url ?? '/', tokens }),
);

// @ts-expect-error the verify function must produce a Partner
export const wrongUser = new PersonaStrategy<Partner>({ apiKey: 'key' }, async (tokens) => ({ id: tokens.accessToken }));

// @ts-expect-error the API key is a string
export const wrongKey = new PersonaStrategy({ apiKey: 42 });
`;

// The same package seen through its \`require\` condition (a .cts file under node16).
const CTS_CONSUMER = `import { PersonaStrategy, type PersonaTokenSet } from 'passport-withpersona';
import { startPersonaEmulator } from 'passport-withpersona/testing';

export function make(apiKey: string): PersonaStrategy {
  return new PersonaStrategy({ apiKey });
}
export type Tokens = PersonaTokenSet;
export const start: typeof startPersonaEmulator = startPersonaEmulator;

// @ts-expect-error the API key is a string
export const wrongKey = new PersonaStrategy({ apiKey: 42 });
`;

function tsconfig(options: Record<string, unknown>): string {
  return `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        types: ['node'],
        strict: true,
        noEmit: true,
        esModuleInterop: true,
        skipLibCheck: false,
        ...options,
      },
      include: ['src'],
    },
    null,
    2,
  )}\n`;
}

let work: string;
let checkout: string;
let distBeforePack: boolean;
let tarball: string;
let packed: string[];
const consumers = {
  esm: '',
  cjs: '',
  node16: '',
  bundler: '',
  ts7: '',
  'quickstart-esm': '',
  'quickstart-cjs': '',
};
const installs: Record<keyof typeof consumers, Run | undefined> = {
  esm: undefined,
  cjs: undefined,
  node16: undefined,
  bundler: undefined,
  ts7: undefined,
  'quickstart-esm': undefined,
  'quickstart-cjs': undefined,
};

/** The README's Quickstart program, exactly as a user copies it. */
function quickstartSource(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = /<!-- readme-check: server -->\n```ts\n([\s\S]*?)\n```\n/.exec(readme);
  if (!match?.[1]) throw new Error('README.md has no Quickstart block marked readme-check: server');
  return `${match[1]}\n`;
}

/** What `tsc --init` (TypeScript 5.9) writes, with an output directory to run from. */
function initTsconfig(overrides: Record<string, unknown> = {}): string {
  const compilerOptions = {
    rootDir: './src',
    outDir: './dist',
    module: 'nodenext',
    target: 'esnext',
    types: ['node'],
    sourceMap: true,
    declaration: true,
    declarationMap: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    strict: true,
    jsx: 'react-jsx',
    verbatimModuleSyntax: true,
    isolatedModules: true,
    noUncheckedSideEffectImports: true,
    moduleDetection: 'force',
    skipLibCheck: true,
    ...overrides,
  };
  return `${JSON.stringify({ compilerOptions }, null, 2)}\n`;
}

/**
 * The repository as a fresh clone has it: every tracked (or new, not ignored) file, no dist/,
 * with this repository's node_modules linked in for the build tools.
 */
async function makeCheckout(dir: string): Promise<void> {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  for (const file of listed.split('\0')) {
    // A tracked file deleted in the working tree is not part of the checkout being tested.
    if (!file || !existsSync(join(root, file))) continue;
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(root, file), join(dir, file));
  }
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
}

async function createConsumer(
  name: keyof typeof consumers,
  type: 'module' | 'commonjs',
  dependencies: string[],
  files: Record<string, string>,
): Promise<void> {
  const dir = join(work, name);
  consumers[name] = dir;
  await mkdir(join(dir, 'src'), { recursive: true });
  // A CommonJS consumer's package.json is what `npm init -y` writes: no "type" at all.
  const manifest = type === 'module' ? { name: `consumer-${name}`, private: true, type } : { name: `consumer-${name}` };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  installs[name] = await timed(`install ${name}`, () =>
    run(
      'npm',
      [
        'install',
        '--prefix',
        dir,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        '--ignore-scripts',
        '--loglevel=error',
        tarball,
        ...dependencies,
      ],
      dir,
      120_000,
    ),
  );
}

beforeAll(async () => {
  const started = performance.now();
  work = await mkdtemp(join(tmpdir(), 'pwp-packaging-'));
  checkout = join(work, 'checkout');
  await timed('checkout', () => makeCheckout(checkout));
  distBeforePack = existsSync(join(checkout, 'dist'));
  const pack = await timed('npm pack', () =>
    run('npm', ['pack', '--json', '--pack-destination', work], checkout, 120_000),
  );
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!info) throw new Error(`npm pack printed no package:\n${pack.stdout}`);
  tarball = join(work, info.filename);
  packed = info.files.map((file) => file.path).sort();

  const pinned = (name: string): string => `${name}@${manifestOf(name).version}`;
  const types = ['@types/node', '@types/express', '@types/passport'].map(pinned);
  await Promise.all([
    createConsumer('esm', 'module', [pinned('passport')], { 'src/main.mjs': ESM_CONSUMER }),
    createConsumer('cjs', 'commonjs', [pinned('passport')], { 'src/main.cjs': CJS_CONSUMER }),
    createConsumer('node16', 'module', [pinned('passport'), ...types], {
      'src/main.ts': TS_CONSUMER,
      'src/legacy.cts': CTS_CONSUMER,
      'tsconfig.json': tsconfig({ module: 'node16', moduleResolution: 'node16' }),
    }),
    createConsumer('bundler', 'module', [pinned('passport'), ...types], {
      'src/main.ts': TS_CONSUMER,
      'tsconfig.json': tsconfig({ module: 'esnext', moduleResolution: 'bundler' }),
    }),
    // What `npm install -D typescript` installs today; node10 resolution is gone from it.
    createConsumer('ts7', 'module', [pinned('passport'), ...types, 'typescript@7'], {
      'src/main.ts': TS_CONSUMER,
      'src/legacy.cts': CTS_CONSUMER,
      'tsconfig.nodenext.json': tsconfig({ module: 'nodenext', moduleResolution: 'nodenext' }),
      'tsconfig.bundler.json': tsconfig({ module: 'esnext', moduleResolution: 'bundler' }),
    }),
    // The Quickstart's own install lines: passport-withpersona passport express express-session,
    // then typescript and the @types (pinned to what this repository uses, so npm's cache has them).
    ...(['esm', 'cjs'] as const).map((flavour) =>
      createConsumer(
        `quickstart-${flavour}`,
        flavour === 'esm' ? 'module' : 'commonjs',
        [
          ...['passport', 'express', 'express-session', 'typescript'].map(pinned),
          ...types,
          pinned('@types/express-session'),
        ],
        {
          'src/app.ts': quickstartSource(),
          // In a CommonJS project, `import` compiles to `require` only with verbatimModuleSyntax off.
          'tsconfig.json': initTsconfig(flavour === 'esm' ? {} : { verbatimModuleSyntax: false }),
        },
      ),
    ),
  ]);
  timings['setup total'] = Math.round(performance.now() - started);
}, 240_000);

afterAll(async () => {
  if (process.env.PACKAGING_TIMINGS) console.log('packaging timings (ms):', timings);
  if (work) await rm(work, { recursive: true, force: true });
});

function expectInstalled(name: keyof typeof consumers): string {
  const install = installs[name];
  expect(install, `consumer ${name} was not set up`).toBeDefined();
  expect(install?.code, `npm install in the ${name} consumer:\n${install?.stderr}`).toBe(0);
  return consumers[name];
}

describe('the tarball', () => {
  it('is built by npm pack itself (prepack) from a checkout without dist/', () => {
    expect(distBeforePack).toBe(false);
    expect(packed).toContain('dist/esm/index.js');
    expect(packed).toContain('dist/cjs/index.js');
  });

  it('holds dist/, README.md, LICENSE, CHANGELOG.md and package.json, and nothing else', async () => {
    const others = packed.filter((path) => !path.startsWith('dist/'));
    expect(others).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
    const dist = (await listFiles(join(checkout, 'dist'))).map((path) => `dist/${path}`);
    expect(packed.filter((path) => path.startsWith('dist/'))).toEqual(dist);
    for (const entry of [
      'dist/esm/index.js',
      'dist/esm/index.d.ts',
      'dist/esm/package.json',
      'dist/esm/testing/index.js',
      'dist/esm/testing/cli.js',
      'dist/cjs/index.js',
      'dist/cjs/index.d.ts',
      'dist/cjs/package.json',
      'dist/cjs/testing/index.d.ts',
    ]) {
      expect(packed).toContain(entry);
    }
    expect(
      packed.filter((path) => /\.map$|\.test\.|\.tsbuildinfo$|(^|\/)(src|test|bench|example-app|scripts)\//.test(path)),
    ).toEqual([]);
  });

  it('declares the right module type in each half of dist/', async () => {
    const dir = join(expectInstalled('esm'), 'node_modules/passport-withpersona');
    expect(JSON.parse(await readFile(join(dir, 'dist/esm/package.json'), 'utf8'))).toEqual({ type: 'module' });
    expect(JSON.parse(await readFile(join(dir, 'dist/cjs/package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
  });

  it('has no import.meta in the CommonJS build', async () => {
    const dir = join(expectInstalled('cjs'), 'node_modules/passport-withpersona/dist/cjs');
    const hits: string[] = [];
    for (const file of await listFiles(dir)) {
      if (file.endsWith('.js') && (await readFile(join(dir, file), 'utf8')).includes('import.meta')) hits.push(file);
    }
    expect(hits).toEqual([]);
  });

  it('has no `any` in its public declarations', async () => {
    const dir = join(expectInstalled('esm'), 'node_modules/passport-withpersona/dist');
    const hits: string[] = [];
    for (const file of await listFiles(dir)) {
      if (!file.endsWith('.d.ts')) continue;
      const source = ts.createSourceFile(file, await readFile(join(dir, file), 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node): void => {
        if (node.kind === ts.SyntaxKind.AnyKeyword) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          hits.push(`dist/${file}:${line + 1}: ${node.parent.getText(source)}`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(hits).toEqual([]);
  });

  it('passes publint (strict) and attw with no problems', async () => {
    const [lint, types] = await Promise.all([
      timed('publint', () => run(process.execPath, [publint, 'run', tarball, '--strict'], work)),
      timed('attw', () => run(process.execPath, [attw, tarball, '--format', 'table-flipped'], work)),
    ]);
    expect(lint.code, `${lint.stdout}${lint.stderr}`).toBe(0);
    expect(lint.stdout).toContain('All good');
    expect(types.code, `${types.stdout}${types.stderr}`).toBe(0);
    expect(types.stdout).toContain('No problems found');
  }, 60_000);
});

describe('installed into a consumer project', () => {
  const expectWorks = (out: Run, flavour: 'esm' | 'cjs'): void => {
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '');
    expect(result.resolved[0]).toMatch(
      new RegExp(`node_modules[\\\\/]passport-withpersona[\\\\/]dist[\\\\/]${flavour}[\\\\/]index\\.js$`),
    );
    expect(result.resolved[1]).toMatch(new RegExp(`dist[\\\\/]${flavour}[\\\\/]testing[\\\\/]index\\.js$`));
    expect(result.userAgent).toContain(`passport-withpersona/${ownVersion} `);
    expect(result.tokenType).toBe('bearer');
    expect(result.granted).toBe(true);
    expect(result.scopes).toEqual([`inquiry.read:${result.inquiryId}`]);
    expect(result.failure).toEqual({ persona: true, code: 'invalid_grant', status: 401 });
    expect(result.passportOk).toEqual({ status: 200, body: { objectIds: [result.inquiryId] } });
    expect(result.passportBad).toEqual({ status: 401, body: { challenge: 'invalid_grant' } });
  };

  it('works from ES modules (import)', async () => {
    const dir = expectInstalled('esm');
    expectWorks(await timed('run esm', () => run(process.execPath, ['src/main.mjs'], dir)), 'esm');
  });

  it('works from CommonJS (require)', async () => {
    const dir = expectInstalled('cjs');
    expectWorks(await timed('run cjs', () => run(process.execPath, ['src/main.cjs'], dir)), 'cjs');
  });

  it('links the persona-emulator bin, executable as is', async () => {
    const dir = expectInstalled('esm');
    const out = await run(join(dir, 'node_modules/.bin/persona-emulator'), ['--help'], dir);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('Usage: persona-emulator');
  });

  // The two type-checks are the slowest steps (skipLibCheck is off, so the published
  // declarations are checked too); they run side by side.
  it.concurrent('type-checks from TypeScript with module/moduleResolution node16 (ESM and a .cts file)', async ({
    expect,
  }) => {
    const dir = expectInstalled('node16');
    const out = await timed('tsc node16', () => run(process.execPath, [tsc, '-p', dir], dir));
    expect(`${out.stdout}${out.stderr}`.trim()).toBe('');
    expect(out.code).toBe(0);
  }, 60_000);

  it.concurrent('type-checks from TypeScript with moduleResolution bundler', async ({ expect }) => {
    const dir = expectInstalled('bundler');
    const out = await timed('tsc bundler', () => run(process.execPath, [tsc, '-p', dir], dir));
    expect(`${out.stdout}${out.stderr}`.trim()).toBe('');
    expect(out.code).toBe(0);
  }, 60_000);

  for (const resolution of ['nodenext', 'bundler']) {
    it.concurrent(`type-checks from TypeScript 7 with moduleResolution ${resolution}`, async ({ expect }) => {
      const dir = expectInstalled('ts7');
      const tsc7 = join(dir, 'node_modules/typescript/bin/tsc');
      const version = await run(process.execPath, [tsc7, '--version'], dir);
      expect(version.stdout).toMatch(/^Version 7\./);
      const out = await timed(`tsc 7 ${resolution}`, () =>
        run(process.execPath, [tsc7, '-p', `tsconfig.${resolution}.json`], dir),
      );
      expect(`${out.stdout}${out.stderr}`.trim()).toBe('');
      expect(out.code).toBe(0);
    }, 60_000);
  }
});

describe("the README's Quickstart, copied into an empty project", () => {
  it.each(['esm', 'cjs'] as const)(
    'compiles with tsc --init options and signs in against the emulator (%s)',
    async (flavour) => {
      const dir = expectInstalled(`quickstart-${flavour}`);
      const compiled = await timed(`tsc quickstart ${flavour}`, () =>
        run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', dir], dir),
      );
      expect(`${compiled.stdout}${compiled.stderr}`.trim()).toBe('');
      expect(compiled.code).toBe(0);

      const emulator = await startPersonaEmulator();
      const port = await freePort();
      const app = execFile(process.execPath, ['dist/app.js'], {
        cwd: dir,
        env: {
          ...childEnv(),
          PERSONA_API_KEY: emulator.recipient.apiKey,
          PERSONA_BASE_URL: emulator.url,
          SESSION_SECRET: 'a local secret for the quickstart',
          PORT: String(port),
        },
      });
      const output: string[] = [];
      app.stdout?.on('data', (chunk) => output.push(String(chunk)));
      app.stderr?.on('data', (chunk) => output.push(String(chunk)));
      try {
        await waitFor(() => output.join('').includes('Listening on'), `the Quickstart to listen:\n${output.join('')}`);
        const base = `http://localhost:${port}`;
        const inquiryId = emulator.owner.inquiries[0]?.id ?? '';
        const start = await request(`${base}/auth/persona`);
        await start.body.dump();
        expect(start.statusCode).toBe(302);
        const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
        let cookie = cookiesOf(start.headers['set-cookie']);
        const { code } = emulator.createAuthorization({ scope: `inquiry.read:${inquiryId}` });
        const callback = await request(
          `${base}/auth/persona/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`,
          { headers: { cookie } },
        );
        await callback.body.dump();
        expect([callback.statusCode, callback.headers.location]).toEqual([303, '/profile']);
        cookie = cookiesOf(callback.headers['set-cookie']) || cookie;
        const profile = await request(`${base}/profile`, { headers: { cookie } });
        expect(profile.statusCode).toBe(200);
        expect(JSON.stringify(await profile.body.json())).toContain(inquiryId);
        const inquiry = await request(`${base}/inquiries/${inquiryId}`, { headers: { cookie } });
        expect(inquiry.statusCode).toBe(200);
        await inquiry.body.dump();
      } finally {
        app.kill('SIGKILL');
        await emulator.close();
      }
    },
    60_000,
  );
});

function cookiesOf(header: string | string[] | undefined): string {
  return [header ?? []]
    .flat()
    .map((line) => line.split(';')[0] ?? '')
    .join('; ');
}

async function waitFor(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
