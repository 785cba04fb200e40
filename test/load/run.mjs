// Load and soak test: many logins through an Express 5 app with sessions against the
// Persona emulator, on loopback, bounded in count and time.
//
//   npm run test:load                 (= npm run build && node test/load/run.mjs)
//   node test/load/run.mjs --logins 20000 --storm 1000 --concurrency 100
//
// 1. Soak: `--logins` logins at `--concurrency` connections, each one
//      GET /auth/persona                      → 302 with state and a session cookie
//      POST {emulator}/api/v1/oauth/authorize → 201 with a code (the owner's API key)
//      GET /auth/persona/callback?code&state  → 302 to /profile (the cookie sent back)
//    (every 100th login also reads /profile with the new session cookie). Zero failures allowed.
//    Heap after GC is read from the app after the first `--heap-mark` logins and after the
//    last; it may grow by less than `--max-growth-mb`.
// 2. Storm: a second emulator at its default rate limit (300 requests a minute) and `--storm`
//    logins as fast as possible. Each must end in success (302 to /profile) or a 503 with
//    Retry-After; anything else, or no answer within `--timeout-ms`, is a failure.
//
// Each part opens its connections to the app before it starts measuring (see warmUp).
//
// The emulator (its CLI) and the app each run in a child process forked with an IPC channel;
// exit-with-parent.mjs makes each exit when the channel closes, and the driver kills them on
// every way out. Exit status 0 only when every check passed. The last line of output is
// `LOAD-RESULT {json}` with every figure, for test/load.test.ts.
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const EMULATOR_CLI = path.join(root, 'dist', 'esm', 'testing', 'cli.js');
const APP = path.join(here, 'app.mjs');
const PRELOAD = pathToFileURL(path.join(here, 'exit-with-parent.mjs')).href;
const MB = 1_000_000;
const SOAK_RATE_LIMIT = 1_000_000_000;
const PROFILE_EVERY = 100;
const SESSION_STORE_MAX = 2000;
// An idle keep-alive connection must be closed by the client, never by the server: a server that
// closes it while a request is on its way answers that request with a reset. The app keeps idle
// connections 60 s; the emulator's CLI keeps Node's default 5 s (and says so in Keep-Alive),
// so the driver lets go of them after 10 s and 2 s respectively.
const APP_KEEP_ALIVE = { keepAliveTimeout: 10_000, keepAliveMaxTimeout: 10_000 };
const EMULATOR_KEEP_ALIVE = { keepAliveTimeoutThreshold: 3000 };

// ---------------------------------------------------------------- options

const USAGE = `usage: node test/load/run.mjs [options]
  --logins N          soak logins (default 20000; 0 skips the soak)
  --storm M           rate-limit storm logins (default 1000; 0 skips the storm)
  --concurrency C     concurrent connections, per client pool (default 100)
  --heap-mark K       first heap reading after K logins (default min(5000, logins/4))
  --max-growth-mb X   allowed heap growth after GC between the readings (default 20)
  --timeout-ms T      client-side deadline of every request (default 15000)
  --max-minutes X     deadline of the whole run (default 20)
  -h, --help          show this help`;

function readOptions() {
  const { values } = parseArgs({
    options: {
      logins: { type: 'string', default: '20000' },
      storm: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '100' },
      'heap-mark': { type: 'string' },
      'max-growth-mb': { type: 'string', default: '20' },
      'timeout-ms': { type: 'string', default: '15000' },
      'max-minutes': { type: 'string', default: '20' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const whole = (name, min) => {
    const raw = values[name];
    if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
    return Number(raw);
  };
  const positive = (name) => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
    return value;
  };
  const logins = whole('logins', 0);
  const options = {
    logins,
    storm: whole('storm', 0),
    concurrency: whole('concurrency', 1),
    heapMark: values['heap-mark'] === undefined ? Math.min(5000, Math.ceil(logins / 4)) : whole('heap-mark', 1),
    maxGrowthMB: positive('max-growth-mb'),
    timeoutMs: whole('timeout-ms', 1),
    maxMinutes: positive('max-minutes'),
  };
  if (logins > 0 && options.heapMark >= logins) throw new Error('--heap-mark must be smaller than --logins');
  return options;
}

// ---------------------------------------------------------------- child processes

const children = new Set();
const pools = new Set();

function tail(lines) {
  return lines.slice(-20).join('\n');
}

/** Forks `modulePath` with the preload; collects its output; resolves with the child. */
function forkChild(name, modulePath, args, { execArgv = [], env } = {}) {
  const child = fork(modulePath, args, {
    execArgv: [...execArgv, '--import', PRELOAD],
    env: env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const record = { name, child, stdout: [], stderr: [], exited: false };
  const collect = (into) => {
    let partial = '';
    return (chunk) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        into.push(line);
        if (into.length > 200) into.shift();
      }
    };
  };
  child.stdout.on('data', collect(record.stdout));
  child.stderr.on('data', collect(record.stderr));
  record.exit = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      record.exited = true;
      children.delete(record);
      resolve({ code, signal });
    });
  });
  children.add(record);
  return record;
}

/** Waits for `ready(record)` to return a value, failing when the child exits or time runs out. */
async function untilReady(record, ready, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = ready(record);
    if (value !== undefined) return value;
    if (record.exited) throw new Error(`${record.name} exited during startup:\n${tail(record.stderr)}`);
    if (Date.now() > deadline) throw new Error(`${record.name} did not start within ${ms} ms:\n${tail(record.stderr)}`);
    await sleep(20);
  }
}

/** Starts the emulator's CLI on a free port and reads its `--json` startup summary. */
async function startEmulator(name, cliArgs) {
  const record = forkChild(name, EMULATOR_CLI, ['--port', '0', '--json', ...cliArgs]);
  const summary = await untilReady(record, ({ stdout }) => {
    const line = stdout.find((candidate) => candidate.startsWith('{'));
    return line === undefined ? undefined : JSON.parse(line);
  });
  const owner = summary.organizations?.find((org) => org.role === 'owner');
  const recipient = summary.organizations?.find((org) => org.role === 'recipient');
  if (typeof summary.url !== 'string' || !owner?.apiKey || !recipient?.apiKey || !owner.inquiries?.length) {
    throw new Error(
      `${name}: the CLI's --json summary lacks the URL, the owner, the recipient or the owner's inquiries`,
    );
  }
  return { record, url: summary.url, owner, recipient };
}

/** Starts the Express app against `emulator`, with --expose-gc. */
async function startApp(name, emulator, storeMax) {
  const record = forkChild(name, APP, [], {
    execArgv: ['--expose-gc'],
    env: {
      ...process.env,
      PERSONA_BASE_URL: emulator.url,
      PERSONA_API_KEY: emulator.recipient.apiKey,
      SESSION_STORE_MAX: String(storeMax),
    },
  });
  let url;
  record.child.on('message', (message) => {
    if (message?.ready) url = message.url;
  });
  await untilReady(record, () => url);
  return { record, url };
}

async function stopChild(record) {
  if (record.exited) return;
  record.child.kill('SIGTERM');
  const exited = await Promise.race([record.exit.then(() => true), sleep(3000).then(() => false)]);
  if (!exited) {
    record.child.kill('SIGKILL');
    await record.exit;
  }
}

let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    await Promise.allSettled([...pools].map((pool) => pool.destroy()));
    await Promise.allSettled([...children].map(stopChild));
  })();
  return cleaning;
}

function newPool(url, connections, timeoutMs, keepAlive = {}) {
  const pool = new Pool(url, {
    connections,
    ...keepAlive,
    // The per-request abort signal is the deadline; these only lift undici's 300 s defaults.
    headersTimeout: timeoutMs + 1000,
    bodyTimeout: timeoutMs + 1000,
  });
  pools.add(pool);
  return pool;
}

// ---------------------------------------------------------------- HTTP

/**
 * One request with a client-side deadline. Resolves { status, headers, text, ms } or
 * { hung: true, ms } when the deadline passed, or { error, ms } when the connection failed.
 */
async function call(pool, timeoutMs, options) {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await pool.request({ ...options, signal });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, text, ms: performance.now() - started };
  } catch (error) {
    const ms = performance.now() - started;
    if (signal.aborted) return { hung: true, ms };
    return { error: `${error?.code ?? error?.name ?? 'Error'}`, ms };
  }
}

function describe(step, result) {
  if (result.hung) return `${step}: no answer within the deadline`;
  if (result.error) return `${step}: ${result.error}`;
  let code = '';
  try {
    const body = JSON.parse(result.text);
    code = typeof body?.error === 'string' ? ` ${body.error}` : '';
  } catch {
    // Not JSON: the status says enough.
  }
  return `${step}: HTTP ${result.status}${code}`;
}

function sessionCookie(headers) {
  const raw = headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const cookie = list.find((value) => value.startsWith('connect.sid='));
  return cookie?.split(';')[0];
}

/** GET /auth/persona: the state from the redirect and the session cookie. */
async function startLogin(ctx) {
  const result = await call(ctx.appPool, ctx.timeoutMs, { method: 'GET', path: '/auth/persona' });
  if (result.status !== 302) return { failure: describe('start', result), result };
  const location = new URL(String(result.headers.location ?? ''), ctx.appURL);
  const state = location.searchParams.get('state');
  const cookie = sessionCookie(result.headers);
  if (!state || !cookie) return { failure: 'start: 302 without state or session cookie', result };
  return { state, cookie, ms: result.ms };
}

/** POST /api/v1/oauth/authorize at the emulator, as the data owner: a fresh code. */
async function createCode(ctx, emulator, pool, index) {
  const inquiries = emulator.owner.inquiries;
  const inquiryId = inquiries[index % inquiries.length];
  const body = new URLSearchParams({
    'client-id': emulator.recipient.id,
    'response-type': 'code',
    scope: `inquiry.read:${inquiryId}`,
  }).toString();
  const result = await call(pool, ctx.timeoutMs, {
    method: 'POST',
    path: '/api/v1/oauth/authorize',
    headers: { authorization: `Bearer ${emulator.owner.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  if (result.status !== 201) return { failure: describe('authorize', result), result };
  const code = JSON.parse(result.text).code;
  if (typeof code !== 'string') return { failure: 'authorize: 201 without a code', result };
  return { code, inquiryId, result };
}

function callback(ctx, login, code) {
  const query = new URLSearchParams({ code, state: login.state }).toString();
  return call(ctx.appPool, ctx.timeoutMs, {
    method: 'GET',
    path: `/auth/persona/callback?${query}`,
    headers: { cookie: login.cookie },
  });
}

/**
 * Opens the pool's connections before the measured part: `concurrency` requests at once to a
 * cheap route. Node's server accepts one connection per event-loop iteration, so against a busy
 * app 100 fresh connections take seconds to be accepted, which would show up as login latency.
 */
async function warmUp(ctx, concurrency) {
  const results = await Promise.all(
    Array.from({ length: concurrency }, () =>
      call(ctx.appPool, ctx.timeoutMs, { method: 'GET', path: '/owner/share' }),
    ),
  );
  const bad = results.find((result) => result.status !== 200);
  if (bad) throw new Error(`warm-up: ${describe('GET /owner/share', bad)}`);
}

/** Runs `count` jobs (indices from..from+count-1) on `concurrency` workers. */
async function runWorkers(from, count, concurrency, job) {
  let next = from;
  const end = from + count;
  const worker = async () => {
    while (next < end) {
      const index = next;
      next += 1;
      await job(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

// ---------------------------------------------------------------- figures

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const mb = (bytes) => (bytes / MB).toFixed(2);
const fixed = (n, digits = 1) => Number(n.toFixed(digits));

/** CPU time a child has used so far, in ms, from /proc (Linux); undefined elsewhere. */
function cpuMsOf(record) {
  try {
    const nanoseconds = Number(readFileSync(`/proc/${record.child.pid}/schedstat`, 'utf8').split(' ')[0]);
    return Number.isFinite(nanoseconds) ? nanoseconds / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident memory of a child, in bytes, from /proc (Linux); undefined elsewhere. */
function rssOf(record) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${record.child.pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function driverCpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function readHeap(ctx) {
  const result = await call(ctx.appPool, 60_000, { method: 'GET', path: '/__heap' });
  if (result.status !== 200) throw new Error(`GET /__heap: ${describe('heap', result)}`);
  return JSON.parse(result.text);
}

// ---------------------------------------------------------------- soak

async function soak(options) {
  const emulator = await startEmulator('soak emulator', ['--rate-limit', String(SOAK_RATE_LIMIT)]);
  // Full at the first heap reading, so both readings see the same number of stored sessions.
  const storeMax = Math.max(4 * options.concurrency, Math.min(SESSION_STORE_MAX, options.heapMark));
  const app = await startApp('soak app', emulator, storeMax);
  const ctx = {
    appURL: app.url,
    appPool: newPool(app.url, options.concurrency, options.timeoutMs, APP_KEEP_ALIVE),
    timeoutMs: options.timeoutMs,
  };
  const emulatorPool = newPool(emulator.url, options.concurrency, options.timeoutMs, EMULATOR_KEEP_ALIVE);
  const steps = ['login', 'start', 'authorize', 'callback'];
  const latencies = Object.fromEntries(steps.map((step) => [step, new Float64Array(options.logins)]));
  const failures = new Map();
  let failed = 0;
  let profiles = 0;
  const fail = (reason) => {
    failed += 1;
    failures.set(reason, (failures.get(reason) ?? 0) + 1);
  };

  const login = async (index) => {
    const started = performance.now();
    const begun = await startLogin(ctx);
    if (begun.failure) return fail(begun.failure);
    const issued = await createCode(ctx, emulator, emulatorPool, index);
    if (issued.failure) return fail(issued.failure);
    const result = await callback(ctx, begun, issued.code);
    latencies.login[index] = performance.now() - started;
    latencies.start[index] = begun.ms;
    latencies.authorize[index] = issued.result.ms;
    latencies.callback[index] = result.ms;
    if (result.status !== 302 || result.headers.location !== '/profile') return fail(describe('callback', result));
    if (index % PROFILE_EVERY === 0) {
      const cookie = sessionCookie(result.headers);
      if (!cookie || cookie === begun.cookie) return fail('callback: no new session cookie after login');
      const profile = await call(ctx.appPool, ctx.timeoutMs, { method: 'GET', path: '/profile', headers: { cookie } });
      let scope;
      try {
        scope = JSON.parse(profile.text ?? '').scope;
      } catch {
        // Not JSON: the check below fails it.
      }
      if (profile.status !== 200 || scope !== `inquiry.read:${issued.inquiryId}`) {
        return fail(describe('profile', profile));
      }
      profiles += 1;
    }
  };

  await warmUp(ctx, options.concurrency);
  const heapBefore = await readHeap(ctx);
  const t0 = performance.now();
  await runWorkers(0, options.heapMark, options.concurrency, login);
  const t1 = performance.now();
  const heapAtMark = await readHeap(ctx);
  const t2 = performance.now();
  const cpuAtMark = { app: cpuMsOf(app.record), emulator: cpuMsOf(emulator.record), driver: driverCpuMs() };
  await runWorkers(options.heapMark, options.logins - options.heapMark, options.concurrency, login);
  const t3 = performance.now();
  const cpuAtEnd = { app: cpuMsOf(app.record), emulator: cpuMsOf(emulator.record), driver: driverCpuMs() };
  const emulatorRss = rssOf(emulator.record);
  const heapAtEnd = await readHeap(ctx);

  const seconds = (t1 - t0 + (t3 - t2)) / 1000;
  const latencyMs = {};
  for (const step of steps) {
    const sorted = latencies[step].sort();
    latencyMs[step] = {
      p50: fixed(percentile(sorted, 50)),
      p99: fixed(percentile(sorted, 99)),
      max: fixed(sorted.at(-1) ?? 0),
    };
  }
  const growth = heapAtEnd.heapUsed - heapAtMark.heapUsed;
  // CPU per login over the logins after the mark (the heap readings are outside that span).
  const perLogin = (name) => {
    const before = cpuAtMark[name];
    const after = cpuAtEnd[name];
    return before === undefined || after === undefined
      ? null
      : fixed((after - before) / (options.logins - options.heapMark), 2);
  };
  const cpuMsPerLogin = { app: perLogin('app'), emulator: perLogin('emulator'), driver: perLogin('driver') };
  const loadAverage = os.loadavg().map((n) => fixed(n, 2));
  const figures = {
    logins: options.logins,
    concurrency: options.concurrency,
    failures: failed,
    failureReasons: Object.fromEntries(failures),
    profilesChecked: profiles,
    durationSeconds: fixed(seconds, 2),
    loginsPerSecond: fixed(options.logins / seconds),
    latencyMs,
    heapMark: options.heapMark,
    heapStartMB: fixed(heapBefore.heapUsed / MB, 2),
    heapAtMarkMB: fixed(heapAtMark.heapUsed / MB, 2),
    heapAtEndMB: fixed(heapAtEnd.heapUsed / MB, 2),
    heapGrowthMB: fixed(growth / MB, 2),
    maxGrowthMB: options.maxGrowthMB,
    rssAtEndMB: fixed(heapAtEnd.rss / MB, 1),
    emulatorRssAtEndMB: emulatorRss === undefined ? null : fixed(emulatorRss / MB, 1),
    sessionStoreMax: storeMax,
    cpuMsPerLogin,
    loadAverage,
  };

  console.log(
    `soak: ${options.logins} logins at ${options.concurrency} connections (emulator rate limit ${SOAK_RATE_LIMIT}/min)`,
  );
  console.log(`  failures          ${failed}${failed ? `  ${JSON.stringify(figures.failureReasons)}` : ''}`);
  console.log(`  duration          ${figures.durationSeconds} s  (${figures.loginsPerSecond} logins/s)`);
  for (const step of steps) {
    const { p50, p99, max } = latencyMs[step];
    console.log(`  ${`${step} latency`.padEnd(18)}p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`);
  }
  console.log(`  /profile checked  ${profiles} (every ${PROFILE_EVERY}th login)`);
  if (cpuMsPerLogin.app !== null) {
    console.log(
      `  CPU per login     app ${cpuMsPerLogin.app} ms, emulator ${cpuMsPerLogin.emulator} ms, driver ${cpuMsPerLogin.driver} ms`,
    );
  }
  console.log(`  load average      ${loadAverage.join(' ')} (1, 5, 15 min) at the end`);
  console.log(
    `  heap after GC     start ${mb(heapBefore.heapUsed)} MB, after ${options.heapMark} logins ${mb(heapAtMark.heapUsed)} MB, after ${options.logins} ${mb(heapAtEnd.heapUsed)} MB`,
  );
  console.log(
    `  heap growth       ${mb(growth)} MB (bound < ${options.maxGrowthMB} MB); app rss ${figures.rssAtEndMB} MB, emulator rss ${figures.emulatorRssAtEndMB ?? '?'} MB`,
  );
  console.log(`  session store     the last ${storeMax} sessions (a bounded store, not MemoryStore)`);

  const problems = [];
  if (failed > 0) problems.push(`soak: ${failed} of ${options.logins} logins failed`);
  if (growth >= options.maxGrowthMB * MB) {
    problems.push(
      `soak: heap after GC grew by ${mb(growth)} MB between login ${options.heapMark} and ${options.logins} (bound ${options.maxGrowthMB} MB)`,
    );
  }

  pools.delete(ctx.appPool);
  pools.delete(emulatorPool);
  await Promise.allSettled([ctx.appPool.destroy(), emulatorPool.destroy()]);
  await Promise.allSettled([stopChild(app.record), stopChild(emulator.record)]);
  return { figures, problems };
}

// ---------------------------------------------------------------- storm

/** POST /__emulator/rate-limit/reset: a fresh rate-limit window. */
async function resetRateLimit(ctx, pool) {
  const result = await call(pool, ctx.timeoutMs, { method: 'POST', path: '/__emulator/rate-limit/reset' });
  if (result.status !== 200) throw new Error(`storm setup: ${describe('rate-limit reset', result)}`);
}

/**
 * Creates `count` codes through the emulator's real authorize endpoint. Authorize calls count
 * against the rate limit too, so they are made in windows of at most the limit (read from
 * RateLimit-Limit), with the window reset through the control endpoint in between.
 */
async function precreateCodes(ctx, emulator, pool, count, concurrency) {
  const codes = [];
  let limit;
  let used = 0;
  await resetRateLimit(ctx, pool);
  while (codes.length < count) {
    const batch = limit === undefined ? 1 : Math.min(count - codes.length, limit - used);
    if (batch === 0) {
      await resetRateLimit(ctx, pool);
      used = 0;
      continue;
    }
    const offset = codes.length;
    const made = new Array(batch);
    await runWorkers(0, batch, concurrency, async (j) => {
      made[j] = await createCode(ctx, emulator, pool, offset + j);
    });
    for (const issued of made) {
      if (issued.failure) throw new Error(`storm setup: ${issued.failure}`);
      codes.push(issued.code);
    }
    used += batch;
    if (limit === undefined) {
      limit = Number(made[0].result.headers['ratelimit-limit']);
      if (!Number.isSafeInteger(limit) || limit < 1)
        throw new Error('storm setup: the emulator sent no RateLimit-Limit');
    }
  }
  return { codes, limit };
}

async function storm(options) {
  const emulator = await startEmulator('storm emulator', ['--control']);
  const app = await startApp('storm app', emulator, SESSION_STORE_MAX);
  const ctx = {
    appURL: app.url,
    appPool: newPool(app.url, options.concurrency, options.timeoutMs, APP_KEEP_ALIVE),
    timeoutMs: options.timeoutMs,
  };
  const emulatorPool = newPool(emulator.url, options.concurrency, options.timeoutMs, EMULATOR_KEEP_ALIVE);

  const { codes, limit } = await precreateCodes(ctx, emulator, emulatorPool, options.storm, options.concurrency);
  await warmUp(ctx, options.concurrency);
  await resetRateLimit(ctx, emulatorPool);

  const counts = { success: 0, rateLimited: 0, other: 0, hung: 0 };
  const others = new Map();
  const retryAfter = new Set();
  const latencies = [];
  const other = (reason) => {
    counts.other += 1;
    others.set(reason, (others.get(reason) ?? 0) + 1);
  };

  const t0 = performance.now();
  await runWorkers(0, options.storm, options.concurrency, async (index) => {
    const begun = await startLogin(ctx);
    if (begun.failure) {
      latencies.push(begun.result.ms);
      if (begun.result.hung) counts.hung += 1;
      else other(begun.failure);
      return;
    }
    const result = await callback(ctx, begun, codes[index]);
    latencies.push(begun.ms + result.ms);
    if (result.hung) counts.hung += 1;
    else if (result.status === 302 && result.headers.location === '/profile') counts.success += 1;
    else if (result.status === 503 && /^\d+$/.test(String(result.headers['retry-after'] ?? ''))) {
      counts.rateLimited += 1;
      retryAfter.add(Number(result.headers['retry-after']));
    } else if (result.status === 503) other('callback: 503 without a Retry-After of whole seconds');
    else other(describe('callback', result));
  });
  const seconds = (performance.now() - t0) / 1000;
  const sorted = Float64Array.from(latencies).sort();

  const figures = {
    logins: options.storm,
    concurrency: options.concurrency,
    rateLimit: limit,
    ...counts,
    otherReasons: Object.fromEntries(others),
    retryAfterSeconds: [...retryAfter].sort((a, b) => a - b),
    latencyMs: { p50: fixed(percentile(sorted, 50)), p99: fixed(percentile(sorted, 99)) },
    maxLatencyMs: fixed(sorted.at(-1) ?? 0),
    durationSeconds: fixed(seconds, 2),
  };
  const range = figures.retryAfterSeconds.length
    ? `${figures.retryAfterSeconds[0]}–${figures.retryAfterSeconds.at(-1)} s`
    : 'none';
  console.log(
    `storm: ${options.storm} logins at ${options.concurrency} connections (emulator rate limit ${limit}/min; ${options.storm} codes created beforehand)`,
  );
  console.log(`  success (302 /profile)     ${counts.success}`);
  console.log(`  503 with Retry-After       ${counts.rateLimited}  (Retry-After ${range})`);
  console.log(
    `  other                      ${counts.other}${counts.other ? `  ${JSON.stringify(figures.otherReasons)}` : ''}`,
  );
  console.log(`  hung (> ${options.timeoutMs} ms)          ${counts.hung}`);
  console.log(
    `  login latency              p50 ${figures.latencyMs.p50} ms, p99 ${figures.latencyMs.p99} ms, max ${figures.maxLatencyMs} ms (start + callback)`,
  );
  console.log(`  duration                   ${figures.durationSeconds} s`);

  const problems = [];
  if (counts.other > 0)
    problems.push(`storm: ${counts.other} logins ended in something else than success or 503 with Retry-After`);
  if (counts.hung > 0) problems.push(`storm: ${counts.hung} requests got no answer within ${options.timeoutMs} ms`);
  if (options.storm > limit && counts.rateLimited === 0)
    problems.push('storm: the rate limit was never reached (no 503)');
  if (counts.success > limit && seconds < 60) {
    problems.push(`storm: ${counts.success} successes within one minute at a limit of ${limit}/min`);
  }

  pools.delete(ctx.appPool);
  pools.delete(emulatorPool);
  await Promise.allSettled([ctx.appPool.destroy(), emulatorPool.destroy()]);
  await Promise.allSettled([stopChild(app.record), stopChild(emulator.record)]);
  return { figures, problems };
}

// ---------------------------------------------------------------- main

let finishing;
/** Stops every child and exits; the first reason to finish wins (an interrupt, a failure, the end). */
function finish(code, message) {
  finishing ??= (async () => {
    if (message) process.stderr.write(`${message}\n`);
    await cleanup();
    process.exit(code);
  })();
  return finishing;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void finish(signal === 'SIGINT' ? 130 : 143, `load test: interrupted by ${signal}; children stopped`);
  });
}
// Started with an IPC channel (as test/load.test.ts starts it): stop when the parent goes away.
if (typeof process.send === 'function') {
  process.on('disconnect', () => void finish(1, 'load test: the parent process went away; children stopped'));
  process.channel?.unref();
}
process.on('uncaughtException', (error) => void finish(1, `load test FAILED: ${error?.stack ?? error}`));
process.on('unhandledRejection', (error) => void finish(1, `load test FAILED: ${error?.stack ?? error}`));

async function main() {
  let options;
  try {
    options = readOptions();
  } catch (error) {
    return finish(2, `load test: ${error.message}\n${USAGE}`);
  }
  if (!existsSync(EMULATOR_CLI)) {
    return finish(2, `load test: ${path.relative(root, EMULATOR_CLI)} is missing; run npm run build first`);
  }
  setTimeout(
    () => void finish(1, `load test FAILED: the run passed its deadline of ${options.maxMinutes} minutes`),
    options.maxMinutes * 60_000,
  ).unref();

  console.log(`load test: node ${process.version}, ${os.cpus().length} CPUs, ${os.platform()} ${os.arch()}`);
  const result = { soak: null, storm: null, ok: false };
  const problems = [];
  if (options.logins > 0) {
    const soakResult = await soak(options);
    result.soak = soakResult.figures;
    problems.push(...soakResult.problems);
  }
  if (options.storm > 0) {
    const stormResult = await storm(options);
    result.storm = stormResult.figures;
    problems.push(...stormResult.problems);
  }
  result.ok = problems.length === 0;
  result.problems = problems;
  console.log(`LOAD-RESULT ${JSON.stringify(result)}`);
  if (problems.length > 0) return finish(1, `load test FAILED:\n  ${problems.join('\n  ')}`);
  console.log('load test passed');
  return finish(0);
}

main().catch((error) => finish(1, `load test FAILED: ${error?.stack ?? error}`));
