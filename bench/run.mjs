// Login-callback benchmark: passport-withpersona against passport-oauth2, an inline exchange in
// Express 5, and an inline exchange on bare node:http, in one run.
//
//   npm run bench                       (= npm run build && node bench/run.mjs)
//   node bench/run.mjs --duration 10 --rounds 3 --connections 50 --memory-logins 50000
//
// Every server and the token stub run in their own process, forked with an IPC channel: each
// child exits when the channel closes, so none outlives the runner, whatever ends it. Each round
// starts every server afresh, checks its answers, warms it up, then measures it.
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { request } from 'undici';
import { EXPIRES_IN, SCOPE, SERVERS, parseScopes } from './common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const LIBRARY_ENTRY = path.join(root, 'dist', 'esm', 'index.js');

const TARGETS = { vsOauth2: 1.3, vsExpressInline: 0.9, p99VsOauth2: 0.8 };
const KEBAB_NOTE =
  'passport-oauth2 asks the stub for snake_case (Key-Inflection: snake): it reads only `access_token`, ' +
  'so Persona\'s default kebab-case token response makes it fail with "Failed to obtain access token". ' +
  'It also cannot see response headers, so its req.user has no requestId.';

// ---------------------------------------------------------------- options

const usage = `usage: node bench/run.mjs [options]
  --duration S        seconds of load per server per round (default 10)
  --rounds N          interleaved rounds, servers 1 2 3 4 in each (default 3)
  --connections C     concurrent connections (default 50)
  --warmup S          seconds of warm-up load before each measured run (default min(5, duration/2), at least 1)
  --memory-logins N   logins for the heap-retained-per-login figure (default 50000; 0 skips it)
  --memory-servers L  comma-separated servers measured for memory (default passport-withpersona,passport-oauth2)
  --servers L         comma-separated servers by number or name (default 1,2,3,4; 5 is Passport's
                      floor: a minimal strategy around (3)'s inline exchange, for reference)
  --profile DIR       start each server with --cpu-prof, profiles written to DIR
  --no-write          do not write bench/results.json or BENCHMARKS.md
  --render            only rewrite BENCHMARKS.md from bench/results.json, without running
  --help`;

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string' },
    'memory-logins': { type: 'string', default: '50000' },
    'memory-servers': { type: 'string', default: 'passport-withpersona,passport-oauth2' },
    servers: { type: 'string', default: '1,2,3,4' },
    profile: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(usage);
  process.exit(0);
}

function positive(name, value, { integer = false, allowZero = false } = {}) {
  const n = Number(value);
  const ok = Number.isFinite(n) && (allowZero ? n >= 0 : n > 0) && (!integer || Number.isInteger(n));
  if (!ok) {
    console.error(`--${name} must be a ${integer ? 'whole ' : ''}number${allowZero ? ' >= 0' : ' > 0'}\n${usage}`);
    process.exit(2);
  }
  return n;
}

function pickServers(list) {
  return list.split(',').map((item) => {
    const key = item.trim();
    const server = SERVERS.find((s) => String(s.id) === key || s.name === key);
    if (!server) {
      console.error(
        `unknown server ${JSON.stringify(key)}; known: ${SERVERS.map((s) => `${s.id}/${s.name}`).join(', ')}`,
      );
      process.exit(2);
    }
    return server;
  });
}

const duration = positive('duration', opts.duration);
const rounds = positive('rounds', opts.rounds, { integer: true });
const connections = positive('connections', opts.connections, { integer: true });
const warmup =
  opts.warmup === undefined
    ? Math.max(1, Math.min(5, duration / 2))
    : positive('warmup', opts.warmup, { allowZero: true });
const memoryLogins = positive('memory-logins', opts['memory-logins'], { integer: true, allowZero: true });
const selected = pickServers(opts.servers);
const memoryServers = memoryLogins > 0 ? pickServers(opts['memory-servers']) : [];
const write = !opts['no-write'];
const command = ['node', 'bench/run.mjs', ...process.argv.slice(2)].join(' ');

// ---------------------------------------------------------------- child processes

const children = new Set();

function spawnChild(script, args, execArgv = []) {
  const child = fork(path.join(here, script), args, {
    cwd: root,
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function firstMessage(child, what, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message) => {
      if (message?.ready) done(null, message);
    };
    const onExit = (code, signal) => done(new Error(`${what} exited (${signal ?? `code ${code}`}) before answering`));
    function done(err, message) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(message);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

function stopChild(child, graceMs = 10_000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function stopAllChildren() {
  await Promise.all([...children].map((child) => stopChild(child)));
}

process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping benchmark processes`);
    stopAllChildren().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- /proc memory

const KB = 1024;

function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) * KB : NaN;
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: fixed at 100 on Linux, whatever the kernel's HZ

/** CPU time (user + system) a process has used so far, in milliseconds. */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Resets the kernel's peak-RSS mark (VmHWM) of a process we own; false when not possible. */
function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Tracks a process's peak RSS over one load run: VmHWM after a reset, else polled VmRSS. */
function startPeakRss(pid) {
  const reset = resetPeakRss(pid);
  let polled = procStatus(pid).rss;
  const timer = reset
    ? null
    : setInterval(() => {
        polled = Math.max(polled, procStatus(pid).rss);
      }, 100);
  return {
    method: reset ? 'VmHWM, reset before each run' : 'VmRSS polled every 100 ms',
    stop() {
      if (timer) clearInterval(timer);
      const now = procStatus(pid);
      return reset ? now.hwm : Math.max(polled, now.rss);
    },
  };
}

// ---------------------------------------------------------------- checks

const EXPECTED_SCOPES = parseScopes(SCOPE);
const ACCESS_TOKEN = /^persona_access_token_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What is wrong with a callback response body (empty when it is the expected req.user). */
function userProblems(user) {
  const problems = [];
  if (user === null || typeof user !== 'object') return ['not a JSON object'];
  if (typeof user.accessToken !== 'string' || !ACCESS_TOKEN.test(user.accessToken)) problems.push('accessToken');
  if (user.tokenType !== 'bearer') problems.push('tokenType');
  if (user.expiresIn !== EXPIRES_IN) problems.push('expiresIn');
  const expected = Date.now() + EXPIRES_IN * 1000;
  if (typeof user.expiresAt !== 'number' || Math.abs(user.expiresAt - expected) > 120_000) problems.push('expiresAt');
  if (user.scope !== SCOPE) problems.push('scope');
  if (!isDeepStrictEqual(user.scopes, EXPECTED_SCOPES)) problems.push('scopes');
  if (user.requestId !== undefined && (typeof user.requestId !== 'string' || !user.requestId.startsWith('req_'))) {
    problems.push('requestId');
  }
  return problems;
}

async function stubStats(stubURL) {
  const { statusCode, body } = await request(`${stubURL}/__stats`);
  if (statusCode !== 200) throw new Error(`token stub stats: HTTP ${statusCode}`);
  return body.json();
}

/** A few logins through a server, checked field by field; returns the response's keys. */
async function checkResponses(server, runId) {
  let keys = [];
  for (let i = 0; i < 3; i++) {
    const code = `shape_${runId}_${server.id}_${i}`;
    const { statusCode, body } = await request(`${server.url}/callback?code=${code}`);
    const text = await body.text();
    if (statusCode !== 200) {
      throw new Error(`(${server.id}) ${server.name}: GET /callback answered ${statusCode}: ${text.slice(0, 300)}`);
    }
    const user = JSON.parse(text);
    const problems = userProblems(user);
    if (problems.length) {
      throw new Error(
        `(${server.id}) ${server.name}: unexpected req.user fields ${problems.join(', ')}: ${text.slice(0, 400)}`,
      );
    }
    keys = Object.keys(user).sort();
  }
  return keys;
}

// ---------------------------------------------------------------- load

let codeSeq = 0;

/** One autocannon run against a server; every request carries a fresh code. */
async function load(server, seconds, runId, tag, validate) {
  const prefix = `bench_${runId}_${tag}_`;
  let invalid = 0;
  let firstInvalid = null;
  const requestSpec = {
    method: 'GET',
    setupRequest(req) {
      req.path = `/callback?code=${prefix}${++codeSeq}`;
      return req;
    },
  };
  if (validate) {
    requestSpec.onResponse = (status, body) => {
      if (status !== 200) return; // counted as non-2xx by autocannon
      let problems;
      try {
        problems = userProblems(JSON.parse(body));
      } catch {
        problems = ['not JSON'];
      }
      if (problems.length) {
        invalid++;
        firstInvalid ??= `${problems.join(', ')}: ${String(body).slice(0, 200)}`;
      }
    };
  }
  const result = await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [requestSpec],
  });
  const failures = {
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    invalidBodies: invalid,
  };
  const total = Object.values(failures).reduce((a, b) => a + b, 0);
  if (total > 0 || result['2xx'] === 0) {
    const codes = JSON.stringify(result.statusCodeStats);
    throw new Error(
      `(${server.id}) ${server.name} ${tag}: ${JSON.stringify(failures)}, ${result['2xx']} 2xx, status codes ${codes}` +
        (firstInvalid ? `, first invalid body: ${firstInvalid}` : ''),
    );
  }
  return result;
}

// ---------------------------------------------------------------- summary helpers

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
const mb = (bytes) => bytes / (1024 * 1024);

function table(rows) {
  const header = ['server', 'req/s', 'p50 ms', 'p99 ms', 'peak RSS MB', 'CPU µs/req', '(1) req/s ÷ this'];
  const body = rows.map((r) => [
    `(${r.id}) ${r.name}`,
    fmt(r.median.requestsPerSecond),
    fmt(r.median.p50),
    fmt(r.median.p99),
    fmt(mb(r.median.peakRss), 1),
    fmt(r.median.cpuMicrosPerRequest),
    fmt(r.ratioOfLibrary, 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function markdownTable(rows) {
  const out = [
    '| server | req/s | p50 ms | p99 ms | peak RSS MB | server CPU µs/req | (1) req/s ÷ this |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    out.push(
      `| (${r.id}) ${r.label} | ${fmt(r.median.requestsPerSecond)} | ${fmt(r.median.p50)} | ` +
        `${fmt(r.median.p99)} | ${fmt(mb(r.median.peakRss), 1)} | ${fmt(r.median.cpuMicrosPerRequest)} | ${fmt(r.ratioOfLibrary, 2)} |`,
    );
  }
  return out.join('\n');
}

/** The package version and the commit the run was made on (dist/ is built from the working tree). */
function libraryVersion() {
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return { version, commit };
}

function machine() {
  const cpus = os.cpus();
  return {
    nproc: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGB: Math.round(os.totalmem() / 1024 ** 3),
  };
}

const NOTES_MARKER = '<!-- Notes below this line are written by hand; bench/run.mjs keeps them. -->';

function writeBenchmarksMd(results) {
  const file = path.join(root, 'BENCHMARKS.md');
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = previous.indexOf(NOTES_MARKER);
  const notes = at === -1 ? `${NOTES_MARKER}\n` : previous.slice(at);
  const m = results.machine;
  const r = results.ratios;
  const t = results.targets;
  const yes = (ok) => (ok === null ? 'n/a' : ok ? 'met' : '**missed**');
  const memoryLines = results.memory.length
    ? results.memory.map(
        (x) =>
          `| ${x.server} | ${fmt(x.retainedPerLogin, 1)} | ${fmt(mb(x.heapBefore), 1)} → ${fmt(mb(x.heapAfter), 1)} | ${fmt(x.loginsPerSecond)} |`,
      )
    : [];
  const text = `# Benchmarks

The cost of a login callback: the route that receives Persona's authorization code, exchanges it
at \`POST /api/v1/oauth/token\` and puts the token and its parsed scopes on \`req.user\`.
Generated by \`npm run bench\` (\`bench/run.mjs\`); the raw numbers are in \`bench/results.json\`.

## Result

${markdownTable(results.servers)}

Medians of ${results.options.rounds} interleaved rounds (${results.servers.map((s) => s.id).join(' ')}, repeated) of
${results.options.duration} s each at ${results.options.connections} connections; in every round each server is a fresh process,
checked field by field and warmed up for ${results.options.warmup} s before it is measured. p50/p99: autocannon's latency percentiles (whole milliseconds). Peak RSS: the callback
server process's ${results.peakRssMethod}. Server CPU: the server process's user + system time
during a run divided by the requests it answered (\`/proc/<pid>/stat\`); a busy machine disturbs
it less than requests per second.

| ratio | measured | target | |
|---|---:|---:|---|
| throughput (1) ÷ (2) passport-oauth2 | ${fmt(r.vsOauth2, 2)} | ≥ ${TARGETS.vsOauth2} | ${yes(t.vsOauth2)} |
| throughput (1) ÷ (3) Express inline | ${fmt(r.vsExpressInline, 2)} | ≥ ${TARGETS.vsExpressInline} | ${yes(t.vsExpressInline)} |
| p99 (1) ÷ (2) passport-oauth2 | ${fmt(r.p99VsOauth2, 2)} | ≤ ${TARGETS.p99VsOauth2} | ${yes(t.p99VsOauth2)} |
| throughput (1) ÷ (4) node:http inline | ${fmt(r.vsNodeHttpInline, 2)} | | |

${
  results.memory.length
    ? `### Heap retained per login

${results.memory[0].logins.toLocaleString('en-US')} logins through the server in one process (\`node --expose-gc\`), over real
HTTP on loopback, against the same token stub; heap used after full GC, after minus before, divided
by the number of logins (a warm-up of up to 2,000 logins comes first). A figure within a few bytes
of zero, either side, means nothing is kept per login.

| server | bytes retained per login | heap MB before → after | logins/s in-process |
|---|---:|---:|---:|
${memoryLines.join('\n')}
`
    : ''
}
## What runs

- **Token stub** (\`bench/stub.mjs\`): node:http in its own process; answers 201 with a fixed
  Persona-style token response (a fresh \`persona_access_token_<uuid>\` each time, \`expires-in\`
  3599, two scopes) and a \`Request-Id\` header. It checks the Bearer API key, the form body, the
  code and the grant type (\`grant-type\` or \`grant_type\`), and answers 4xx otherwise.
- **Callback servers**, each its own process, \`GET /callback?code=…\`, \`session: false\`, all
  answering the same JSON (\`accessToken, tokenType, expiresIn, expiresAt, scope, scopes[], requestId\`):
${results.servers.map((s) => `  ${s.id}. ${s.label} (\`bench/servers/${s.name}.mjs\`)`).join('\n')}
- ${KEBAB_NOTE}
- Servers 3 and 4 use a keep-alive undici \`Agent\`; passport-withpersona its own default
  dispatcher; passport-oauth2 node's \`http\` module through the \`oauth\` package, as it ships.
- Load: autocannon's library API in the runner process; every request carries a different code;
  any error, timeout or non-2xx response fails the run, and so does a wrong response body
  during the warm-up (each body is checked) or a token-stub rejection.

## Machine and command

- Date: ${results.date}
- CPU: ${m.cpuModel}, nproc ${m.nproc}, ${m.memoryGB} GB RAM, ${m.os}
- Node: ${m.node}
- passport-withpersona ${results.library.version}, commit ${results.library.commit}
- Command: \`npm run bench\` (\`${results.command}\`)

The load generator, the token stub and the server share the ${m.nproc} cores, so absolute numbers
are low and noisy; compare the ratios, which come from one run with interleaved rounds.

${notes}`;
  writeFileSync(file, text);
}

// ---------------------------------------------------------------- main

async function main() {
  if (
    selected.some((s) => s.name === 'passport-withpersona') ||
    memoryServers.some((s) => s.name === 'passport-withpersona')
  ) {
    if (!existsSync(LIBRARY_ENTRY)) {
      throw new Error(
        `${path.relative(root, LIBRARY_ENTRY)} is missing: run \`npm run build\` first (or \`npm run bench\`)`,
      );
    }
  }
  const runId = Date.now().toString(36);
  const info = machine();
  console.log(
    `passport-withpersona login-callback benchmark: ${selected.length} servers, ${rounds} round(s) × ${duration} s, ` +
      `${connections} connections, ${warmup} s warm-up; ${info.cpuModel}, nproc ${info.nproc}, node ${info.node}`,
  );
  console.log(`note: ${KEBAB_NOTE}`);

  const stub = spawnChild('stub.mjs', []);
  const stubURL = `http://127.0.0.1:${(await firstMessage(stub, 'token stub', 15_000)).port}`;

  const profileArgs = opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.profile)}`] : [];
  if (opts.profile) mkdirSync(path.resolve(opts.profile), { recursive: true });
  // Each round starts every server afresh and warms it up before measuring, so a process that
  // happened to start badly (JIT, heap layout, core placement) is one sample, not the whole run.
  const servers = selected.map((spec) => ({ ...spec, rounds: [] }));
  let totalRequests = 0;
  let peakRssMethod = '';

  async function startServer(spec) {
    const child = spawnChild('serve.mjs', [spec.name, stubURL], profileArgs);
    const ready = await firstMessage(child, `(${spec.id}) ${spec.name}`, 30_000);
    return { ...spec, child, pid: child.pid, url: `http://127.0.0.1:${ready.port}` };
  }

  async function checkedLoad(server, seconds, tag, validate) {
    const before = await stubStats(stubURL);
    const result = await load(server, seconds, runId, tag, validate);
    await sleep(300);
    const after = await stubStats(stubURL);
    if (after.rejected !== before.rejected) throw new Error(`token stub rejected a request: ${after.lastRejection}`);
    const exchanged = after.exchanges - before.exchanges;
    if (exchanged < result['2xx']) {
      throw new Error(`(${server.id}) ${server.name}: ${result['2xx']} logins but only ${exchanged} token exchanges`);
    }
    totalRequests += result.requests.total;
    return { result, exchanged, before, after };
  }

  for (let round = 1; round <= rounds; round++) {
    for (const spec of servers) {
      const server = await startServer(spec);
      try {
        // Correctness first: every field of req.user, from every server, in every round.
        const keys = await checkResponses(server, runId);
        if (round === 1) console.log(`check (${server.id}) ${server.name}: 200, req.user fields ${keys.join(', ')}`);
        if (warmup > 0) {
          const { result } = await checkedLoad(server, warmup, `w${round}s${server.id}`, true);
          if (round === 1) {
            console.log(
              `warm-up (${server.id}) ${server.name}: ${fmt(result.requests.total / result.duration)} req/s, every body checked`,
            );
          }
        }
        const peak = startPeakRss(server.pid);
        peakRssMethod = peak.method;
        const cpuBefore = cpuMs(server.pid);
        const { result, exchanged, before, after } = await checkedLoad(
          server,
          duration,
          `r${round}s${server.id}`,
          false,
        );
        const peakRss = peak.stop();
        const cpuUsed = cpuMs(server.pid) - cpuBefore;
        const entry = {
          round,
          requestsPerSecond: result.requests.total / result.duration,
          p50: result.latency.p50,
          p99: result.latency.p99,
          peakRss,
          cpuMicrosPerRequest: (cpuUsed * 1000) / result.requests.total,
          requests: result.requests.total,
          duration: result.duration,
          tokenExchanges: exchanged,
          inflection: { kebab: after.kebab - before.kebab, snake: after.snake - before.snake },
        };
        spec.rounds.push(entry);
        console.log(
          `round ${round} (${server.id}) ${server.name.padEnd(20)} ${fmt(entry.requestsPerSecond).padStart(6)} req/s  ` +
            `p50 ${fmt(entry.p50)} ms  p99 ${fmt(entry.p99)} ms  peak RSS ${fmt(mb(peakRss), 1)} MB  ` +
            `server CPU ${fmt(entry.cpuMicrosPerRequest)} µs/req`,
        );
      } finally {
        await stopChild(server.child);
      }
    }
  }
  console.log(`checks: 0 errors, 0 timeouts, 0 non-2xx across ${totalRequests} requests`);

  if (opts.profile) console.log(`cpu profiles written to ${path.resolve(opts.profile)}`);

  const memory = [];
  for (const spec of memoryServers) {
    const child = spawnChild('memory.mjs', [spec.name, stubURL, String(memoryLogins)], ['--expose-gc']);
    const timeoutMs = 60_000 + memoryLogins * 5; // generous: 200 logins/s worst case
    const result = await firstMessage(child, `memory (${spec.id}) ${spec.name}`, timeoutMs);
    await stopChild(child);
    const { ready: _ready, ...figures } = result;
    memory.push(figures);
    console.log(
      `memory (${spec.id}) ${spec.name}: ${fmt(figures.retainedPerLogin, 1)} bytes retained per login after GC ` +
        `(${memoryLogins} logins in-process, heap ${fmt(mb(figures.heapBefore), 1)} → ${fmt(mb(figures.heapAfter), 1)} MB)`,
    );
  }
  await stopAllChildren();

  const rows = servers.map((s) => ({
    ...s,
    median: {
      requestsPerSecond: median(s.rounds.map((x) => x.requestsPerSecond)),
      p50: median(s.rounds.map((x) => x.p50)),
      p99: median(s.rounds.map((x) => x.p99)),
      peakRss: median(s.rounds.map((x) => x.peakRss)),
      cpuMicrosPerRequest: median(s.rounds.map((x) => x.cpuMicrosPerRequest)),
    },
  }));
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
  const lib = byName['passport-withpersona'];
  for (const row of rows) row.ratioOfLibrary = ratio(lib?.median.requestsPerSecond, row.median.requestsPerSecond);
  const ratios = {
    vsOauth2: ratio(lib?.median.requestsPerSecond, byName['passport-oauth2']?.median.requestsPerSecond),
    vsExpressInline: ratio(lib?.median.requestsPerSecond, byName['express-inline']?.median.requestsPerSecond),
    p99VsOauth2: ratio(lib?.median.p99, byName['passport-oauth2']?.median.p99),
    vsNodeHttpInline: ratio(lib?.median.requestsPerSecond, byName['node-http-inline']?.median.requestsPerSecond),
  };
  const targets = {
    vsOauth2: Number.isFinite(ratios.vsOauth2) ? ratios.vsOauth2 >= TARGETS.vsOauth2 : null,
    vsExpressInline: Number.isFinite(ratios.vsExpressInline) ? ratios.vsExpressInline >= TARGETS.vsExpressInline : null,
    p99VsOauth2: Number.isFinite(ratios.p99VsOauth2) ? ratios.p99VsOauth2 <= TARGETS.p99VsOauth2 : null,
  };

  const results = {
    date: new Date().toISOString(),
    command,
    machine: info,
    library: libraryVersion(),
    options: { duration, rounds, connections, warmup, memoryLogins },
    peakRssMethod,
    servers: rows,
    memory,
    ratios,
    targets,
    targetValues: TARGETS,
    notes: [KEBAB_NOTE],
  };

  console.log('');
  console.log(table(rows));
  console.log(`medians of ${rounds} round(s); peak RSS: ${peakRssMethod}`);
  for (const m of memory) {
    console.log(
      `heap retained per login after GC (${m.logins} logins in-process): ${m.server} ${fmt(m.retainedPerLogin, 1)} bytes`,
    );
  }
  const verdict = (ok) => (ok === null ? 'n/a' : ok ? 'met' : 'MISSED');
  console.log(
    `target throughput ≥ ${TARGETS.vsOauth2} × passport-oauth2: ${fmt(ratios.vsOauth2, 2)} → ${verdict(targets.vsOauth2)}`,
  );
  console.log(
    `target throughput ≥ ${TARGETS.vsExpressInline} × express-inline: ${fmt(ratios.vsExpressInline, 2)} → ${verdict(targets.vsExpressInline)}`,
  );
  console.log(
    `target p99 ≤ ${TARGETS.p99VsOauth2} × passport-oauth2: ${fmt(ratios.p99VsOauth2, 2)} → ${verdict(targets.p99VsOauth2)}`,
  );

  if (write) {
    writeFileSync(path.join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeBenchmarksMd(results);
    console.log('wrote bench/results.json and BENCHMARKS.md');
  }
  console.log(
    `ratio vs passport-oauth2: ${fmt(ratios.vsOauth2, 2)}; vs express-inline: ${fmt(ratios.vsExpressInline, 2)}; ` +
      `p99 vs passport-oauth2: ${fmt(ratios.p99VsOauth2, 2)}`,
  );
}

try {
  if (opts.render) {
    writeBenchmarksMd(JSON.parse(readFileSync(path.join(here, 'results.json'), 'utf8')));
    console.log('wrote BENCHMARKS.md from bench/results.json');
  } else {
    await main();
  }
} catch (err) {
  console.error(`benchmark failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await stopAllChildren();
}
