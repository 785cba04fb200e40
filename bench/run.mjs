// Login benchmark: passport-withpersona side by side with passport-oauth2 and floor references, in
// the situations users are in: loopback CPU-bound, TLS with a round trip at 50 and 500
// connections, a fixed offered load (open loop), sparse logins after idle gaps, and the README's
// session setup.
//
//   npm run bench                      (= npm run build && node bench/run.mjs)
//   npm run bench -- --quick           every scenario in under 2 minutes, for smoke use
//   node bench/run.mjs --help
//
// See BENCHMARKS.md for what each scenario does and how each figure is taken.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SERVERS } from './common.mjs';
import { spawnChild, nextMessage, setUpPinning, stopAllChildren, stopChild } from './procs.mjs';
import { plotSvg } from './plot.mjs';
import {
  evaluateGoals,
  fmt,
  goalLine,
  pairedRatios,
  printScenario,
  summarizeServer,
  writeBenchmarksMd,
} from './report.mjs';
import {
  defineScenarios,
  measureCapacity,
  measureClosedLoop,
  measureFixedLoad,
  measureSparse,
  startStub,
} from './scenarios.mjs';
import { selfSignedCertificate } from './tls.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const LIBRARY_ENTRY = path.join(root, 'dist', 'esm', 'index.js');
const KEEP_ALIVE_NODE_S = 5;

const usage = `usage: node bench/run.mjs [options]
  --quick             smoke run of every scenario in under 2 minutes (1 round of 1.5 s, 2 sparse
                      logins, 2,000 heap logins); writes nothing
  --scenarios L       comma-separated (default loopback,tls-50,tls-500,fixed-load,sparse,readme; also
                      pool-50: the library with other undici pool settings at 50 connections)
  --rounds N          rounds per scenario, fresh servers each, order rotated (default 3)
  --duration S        seconds of measured load per server per round (default 10)
  --warmup S          seconds of checked warm-up load before each measured run (default 3)
  --round-trip MS     round trip the TLS token stub injects (default 30)
  --load-fraction F   fixed-load scenario: the offered rate, as a fraction of passport-oauth2's
                      closed-loop capacity measured in the same round (default 0.7)
  --capacity-duration S
                      seconds of that capacity measurement, after the warm-up (default 3)
  --sparse-logins N   measured logins per server per round in the sparse scenario (default 10)
  --sparse-gap S      seconds between sparse logins (default 6: longer than Node's 5 s keep-alive)
  --memory-logins N   logins for the heap-retained-per-login figure (default 50000; 0 skips it)
  --servers L         comma-separated: run only these servers in each selected scenario (the
                      first one named is the reference of the ratio columns; nothing is written)
  --variant NAME=DIR  also measure the library as built in DIR (DIR/dist/esm), as the server
                      passport-withpersona@NAME beside passport-withpersona in the closed-loop and
                      fixed-load callback scenarios, in the same rounds (repeatable; nothing is
                      written)
  --profile DIR       start each callback server with --cpu-prof, profiles written to DIR
  --no-write          do not write bench/results.json, bench/results.svg or BENCHMARKS.md
  --render            only rewrite BENCHMARKS.md and bench/results.svg from bench/results.json
  --help`;

const FULL = {
  rounds: '3',
  duration: '10',
  warmup: '3',
  'round-trip': '30',
  'load-fraction': '0.7',
  'capacity-duration': '3',
  'sparse-logins': '10',
  'sparse-gap': '6',
  'memory-logins': '50000',
};
const QUICK = {
  ...FULL,
  rounds: '1',
  duration: '1.5',
  warmup: '1.5',
  'capacity-duration': '1.5',
  'sparse-logins': '2',
  'memory-logins': '2000',
};

const { values: given } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenarios: { type: 'string', default: 'loopback,tls-50,tls-500,fixed-load,sparse,readme' },
    ...Object.fromEntries(Object.keys(FULL).map((name) => [name, { type: 'string' }])),
    profile: { type: 'string' },
    servers: { type: 'string' },
    variant: { type: 'string', multiple: true, default: [] },
    'no-write': { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (given.help) {
  console.log(usage);
  process.exit(0);
}
const opts = {
  ...(given.quick ? QUICK : FULL),
  ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
};

function number(name, { integer = false, allowZero = false } = {}) {
  const n = Number(opts[name]);
  const ok = Number.isFinite(n) && (allowZero ? n >= 0 : n > 0) && (!integer || Number.isInteger(n));
  if (!ok) {
    console.error(`--${name} must be a ${integer ? 'whole ' : ''}number${allowZero ? ' >= 0' : ' > 0'}\n${usage}`);
    process.exit(2);
  }
  return n;
}

const options = {
  rounds: number('rounds', { integer: true }),
  duration: number('duration'),
  warmup: number('warmup', { allowZero: true }),
  roundTripMs: number('round-trip', { allowZero: true }),
  loadFraction: number('load-fraction'),
  capacitySeconds: number('capacity-duration'),
  sparseLogins: number('sparse-logins', { integer: true }),
  sparseGap: number('sparse-gap'),
  memoryLogins: number('memory-logins', { integer: true, allowZero: true }),
};
const allScenarios = defineScenarios(options);
const selected = opts.scenarios.split(',').map((id) => {
  const found = allScenarios.find((s) => s.id === id.trim());
  if (!found) {
    console.error(`unknown scenario ${JSON.stringify(id)}; known: ${allScenarios.map((s) => s.id).join(', ')}`);
    process.exit(2);
  }
  return found;
});
/** `--servers L`: each selected scenario keeps only the servers named, in the order named. */
function keepServers(list, scenarios) {
  const names = list.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!SERVERS[name]) {
      console.error(`--servers: unknown server ${JSON.stringify(name)}; known: ${Object.keys(SERVERS).join(', ')}`);
      process.exit(2);
    }
  }
  for (const scenario of scenarios) {
    scenario.servers = names.filter((name) => scenario.servers.includes(name));
    if (scenario.servers.length === 0) {
      console.error(`--servers: none of ${names.join(', ')} runs in the ${scenario.id} scenario`);
      process.exit(2);
    }
  }
}
/**
 * Each `--variant NAME=DIR`: a server running the library built in DIR, measured in the same
 * rounds as the library itself wherever it runs under load (closed loop or fixed load) on the
 * callback route.
 */
function addVariants(specs, scenarios) {
  const names = specs.map((spec) => {
    const [name, dir] = spec.split(/=(.*)/s);
    const entry = dir ? path.resolve(dir, 'dist', 'esm', 'index.js') : '';
    if (!name || !existsSync(entry)) {
      console.error(`--variant ${JSON.stringify(spec)}: want NAME=DIR with DIR/dist/esm/index.js built\n${usage}`);
      process.exit(2);
    }
    const server = `passport-withpersona@${name}`;
    const label = `passport-withpersona as built in ${dir}`;
    SERVERS[server] = {
      name: server,
      module: 'passport-withpersona',
      options: { library: pathToFileURL(entry).href },
      label,
    };
    return server;
  });
  for (const scenario of scenarios) {
    if (scenario.sparse || scenario.flow !== 'callback' || !scenario.servers.includes('passport-withpersona')) continue;
    const at = scenario.servers.indexOf('passport-withpersona') + 1;
    scenario.servers = [...scenario.servers.slice(0, at), ...names, ...scenario.servers.slice(at)];
  }
}
if (given.servers !== undefined) keepServers(given.servers, selected);
addVariants(given.variant, selected);
const write = !opts['no-write'] && !given.quick && given.variant.length === 0 && given.servers === undefined;
const command = ['node', 'bench/run.mjs', ...process.argv.slice(2)].join(' ');

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping benchmark processes`);
    stopAllChildren().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- run facts

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
    nproc: os.availableParallelism(),
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGB: Math.round(os.totalmem() / 1024 ** 3),
  };
}

/** A certificate for the TLS stubs, in a temporary directory every server trusts (NODE_EXTRA_CA_CERTS). */
function makeTlsDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pwp-bench-'));
  const { key, cert } = selfSignedCertificate();
  writeFileSync(path.join(dir, 'key.pem'), key, { mode: 0o600 });
  writeFileSync(path.join(dir, 'cert.pem'), cert);
  return dir;
}

// ---------------------------------------------------------------- scenarios

const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length]);

function logRound(scenario, name, entry) {
  if (scenario.fixedLoad) {
    console.log(
      `${scenario.id} round ${entry.round} ${name.padEnd(36)} ${fmt(entry.loginsPerSecond).padStart(6)} of ` +
        `${fmt(entry.offeredPerSecond)} logins/s  p50 ${fmt(entry.p50, 1)} ms  p99 ${fmt(entry.p99, 1)} ms  ` +
        `p99.9 ${fmt(entry.p999, 1)} ms  ${entry.failures} failed  CPU ${fmt(entry.cpuMicrosPerLogin)} µs/login  ` +
        `${entry.connections} connections  sent late p99 ${fmt(entry.generatorLateP99, 1)} ms` +
        (entry.firstFailure ? `  first failure: ${entry.firstFailure}` : ''),
    );
    return;
  }
  console.log(
    `${scenario.id} round ${entry.round} ${name.padEnd(36)} ${fmt(entry.loginsPerSecond).padStart(6)} logins/s  ` +
      `p50 ${fmt(entry.p50, 1)} ms  p99 ${fmt(entry.p99, 1)} ms  CPU ${fmt(entry.cpuMicrosPerLogin)} µs/login  ` +
      `${fmt(entry.handshakesPer1000, 1)} handshakes/1000`,
  );
}

/** One fixed-load round: passport-oauth2's capacity first, then every server at the share offered. */
async function fixedLoadRound(run, scenario, order, stub, round, record) {
  const capacity = await measureCapacity(run, scenario, stub, round);
  console.log(
    `${scenario.id} round ${round} capacity of ${capacity.server}: ${fmt(capacity.loginsPerSecond)} logins/s ` +
      `(${scenario.fixedLoad.capacityConnections} connections, closed loop); ` +
      `offering ${fmt(capacity.offeredPerSecond)} logins/s`,
  );
  for (const name of order) {
    record(name, await measureFixedLoad(run, scenario, name, stub, round, capacity.offeredPerSecond));
  }
  return capacity;
}

/** Runs one scenario's rounds; returns its per-server figures and paired ratios. */
async function runScenario(run, scenario) {
  console.log(`\n${scenario.id}: ${scenario.title}`);
  const rounds = Object.fromEntries(scenario.servers.map((name) => [name, []]));
  const sparse = scenario.sparse === true;
  const stubs = sparse
    ? await Promise.all(scenario.servers.map(() => startStub(scenario, run)))
    : [await startStub(scenario, run)];
  const record = (name, entry) => {
    rounds[name].push(entry);
    logRound(scenario, name, entry);
  };
  const capacity = [];
  try {
    for (let round = 1; round <= run.rounds; round++) {
      const order = rotate(scenario.servers, round - 1);
      if (scenario.fixedLoad) {
        capacity.push(await fixedLoadRound(run, scenario, order, stubs[0], round, record));
      } else if (sparse) {
        const entries = await measureSparse(run, scenario, order, rotate(stubs, round - 1), round);
        for (const [i, name] of order.entries()) record(name, entries[i]);
      } else {
        for (const name of order) record(name, await measureClosedLoop(run, scenario, name, stubs[0], round));
      }
    }
  } finally {
    await Promise.all(stubs.map((stub) => stopChild(stub.child)));
  }
  const servers = scenario.servers.map((name) => summarizeServer(name, rounds[name]));
  const { servers: _names, ...facts } = scenario;
  if (facts.fixedLoad) facts.fixedLoad = { ...facts.fixedLoad, capacity };
  return { ...facts, servers, ratios: pairedRatios(servers) };
}

/** Heap retained per login, in one process per server (bench/memory.mjs), against a plain stub. */
async function measureMemory(run) {
  const memory = [];
  if (run.memoryLogins === 0) return memory;
  const stub = await startStub({ tls: false, roundTripMs: 0 }, run);
  try {
    for (const name of ['passport-withpersona', 'passport-oauth2']) {
      const child = spawnChild('memory.mjs', [name, stub.url, String(run.memoryLogins)], { execArgv: ['--expose-gc'] });
      const { ready: _ready, ...figures } = await nextMessage(child, `memory ${name}`, 60_000 + run.memoryLogins * 5);
      await stopChild(child);
      memory.push(figures);
      console.log(
        `memory ${name}: ${fmt(figures.retainedPerLogin, 1)} bytes retained per login after GC ` +
          `(${run.memoryLogins} logins in-process)`,
      );
    }
  } finally {
    await stopChild(stub.child);
  }
  return memory;
}

// ---------------------------------------------------------------- main

function writeOutputs(results) {
  writeFileSync(path.join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(here, 'results.svg'), plotSvg(results));
  writeBenchmarksMd(path.join(root, 'BENCHMARKS.md'), results);
  console.log('wrote bench/results.json, bench/results.svg and BENCHMARKS.md');
}

async function main() {
  if (!existsSync(LIBRARY_ENTRY)) {
    throw new Error(
      `${path.relative(root, LIBRARY_ENTRY)} is missing: run \`npm run build\` first (or \`npm run bench\`)`,
    );
  }
  const info = machine();
  const pinning = setUpPinning();
  console.log(
    `passport-withpersona login benchmark: ${selected.map((s) => s.id).join(', ')}; ${options.rounds} round(s) × ` +
      `${options.duration} s; ${info.cpuModel}, ${info.nproc} CPUs, node ${info.node}`,
  );
  console.log(
    pinning.pinned
      ? `pinned: callback server on CPU ${pinning.serverCpu}, runner and stubs on CPU ${pinning.otherCpus}`
      : `not pinned: ${pinning.reason}`,
  );
  if (selected.some((s) => s.sparse) && options.sparseGap <= KEEP_ALIVE_NODE_S) {
    console.log(
      `note: a sparse gap of ${options.sparseGap} s is not longer than Node's ${KEEP_ALIVE_NODE_S} s keep-alive`,
    );
  }
  const tlsDir = makeTlsDir();
  const run = {
    ...options,
    runId: Date.now().toString(36),
    pinning,
    tlsDir,
    extraCaEnv: { NODE_EXTRA_CA_CERTS: path.join(tlsDir, 'cert.pem') },
    profileArgs: opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.profile)}`] : [],
  };
  try {
    const scenarios = [];
    for (const scenario of selected) scenarios.push(await runScenario(run, scenario));
    const memory = await measureMemory(run);
    const results = {
      date: new Date().toISOString(),
      command,
      machine: info,
      library: libraryVersion(),
      pinning,
      options,
      scenarios,
      memory,
    };
    results.goals = evaluateGoals(results);
    for (const s of scenarios) printScenario(s);
    console.log('');
    if (opts.profile) console.log(`CPU profiles of the callback servers written to ${path.resolve(opts.profile)}`);
    if (write) writeOutputs(results);
    else console.log('results not written (--quick, --no-write, --servers or --variant)');
    console.log(goalLine(results.goals));
  } finally {
    rmSync(tlsDir, { recursive: true, force: true });
  }
}

try {
  if (given.render) {
    const results = JSON.parse(readFileSync(path.join(here, 'results.json'), 'utf8'));
    writeFileSync(path.join(here, 'results.svg'), plotSvg(results));
    writeBenchmarksMd(path.join(root, 'BENCHMARKS.md'), results);
    console.log('wrote BENCHMARKS.md and bench/results.svg from bench/results.json');
  } else {
    await main();
  }
} catch (err) {
  console.error(`benchmark failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await stopAllChildren();
}
