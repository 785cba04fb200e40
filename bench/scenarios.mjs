// The situations the benchmark measures, and how one server is measured in each.
//
// Closed-loop scenarios: in every round each server is a fresh process, checked login by login,
// warmed up, then loaded; the order of the servers rotates from round to round. Fixed load: the
// same, but each round first measures passport-oauth2's closed-loop capacity, and every server
// then gets the same share of it as an open-loop load. Sparse: every server (each with its own
// token stub, so handshakes are counted per server) logs in once every gap, the servers staggered
// so no two logins overlap.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { SERVERS, TOKEN_PATH, exchangeInline } from './common.mjs';
import { Connection } from './http1.mjs';
import { ConnectionPool, FLOWS, closedLoop, latencySummary, openLoop } from './load.mjs';
import { cpuMicros, nextMessage, spawnChild, startPeakRss, stopChild, stubStats } from './procs.mjs';

const TRIO = ['passport-withpersona', 'passport-oauth2', 'passport-dispatch'];
/** The most connections the fixed-load generator opens to one server. */
const FIXED_LOAD_MAX_CONNECTIONS = 1000;

/** Every scenario, in run order; `optional` ones run only when named in --scenarios. */
export function defineScenarios({ roundTripMs, sparseGap, loadFraction }) {
  const tls = { tls: true, roundTripMs };
  const overTls = `TLS + ${roundTripMs} ms round trip`;
  return [
    {
      id: 'loopback',
      title: 'Loopback, CPU-bound (plain HTTP token stub, no delay), 50 connections',
      tls: false,
      roundTripMs: 0,
      connections: 50,
      flow: 'callback',
      servers: [...TRIO, 'passport-minimal', 'express-inline', 'node-http-inline'],
    },
    { id: 'tls-50', title: `${overTls}, 50 connections`, ...tls, connections: 50, flow: 'callback', servers: TRIO },
    { id: 'tls-500', title: `${overTls}, 500 connections`, ...tls, connections: 500, flow: 'callback', servers: TRIO },
    {
      id: 'sparse',
      title: `Sparse: one login at a time every ${sparseGap} s, ${overTls}`,
      ...tls,
      sparse: true,
      connections: 1,
      flow: 'callback',
      servers: TRIO,
    },
    {
      id: 'fixed-load',
      title: `Fixed load: ${Math.round(loadFraction * 100)} % of passport-oauth2's capacity, open loop, ${overTls}`,
      ...tls,
      fixedLoad: { fraction: loadFraction, capacityOf: 'passport-oauth2', capacityConnections: 500 },
      connections: FIXED_LOAD_MAX_CONNECTIONS,
      flow: 'callback',
      servers: TRIO,
    },
    {
      id: 'readme',
      title: `README setup: express-session + state: true (2 requests per login), ${overTls}, 50 connections`,
      ...tls,
      connections: 50,
      flow: 'readme',
      servers: ['readme-withpersona', 'readme-oauth2', 'readme-dispatch', 'readme-https'],
    },
    {
      id: 'pool-50',
      title: `Pool settings at 50 connections, ${overTls}`,
      ...tls,
      connections: 50,
      flow: 'callback',
      optional: true,
      servers: [
        'passport-withpersona',
        'passport-withpersona-pipelining-2',
        'passport-withpersona-pipelining-10',
        'passport-withpersona-connections-50',
        'passport-oauth2',
        'passport-dispatch',
      ],
    },
  ];
}

const STUB_WARMUP_LANES = 20;

/**
 * Starts a token stub (bench/stub.mjs) as the scenario needs it, then keeps it busy for `warmup`
 * seconds, so the first server measured does not also pay for the stub's JIT warm-up.
 */
export async function startStub(scenario, run) {
  const args = ['--round-trip', String(scenario.roundTripMs)];
  if (scenario.tls) args.push('--tls', run.tlsDir);
  const child = spawnChild('stub.mjs', args);
  const { port } = await nextMessage(child, 'token stub', 15_000);
  const stub = { child, url: `${scenario.tls ? 'https' : 'http'}://127.0.0.1:${port}` };
  const agent = new Agent({ connect: { ca: readFileSync(path.join(run.tlsDir, 'cert.pem')) } });
  const deadline = performance.now() + run.warmup * 1000;
  const lane = async (n) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const { status } = await exchangeInline(agent, `${stub.url}${TOKEN_PATH}`, `stubwarm_${n}_${i}`);
      if (status) throw new Error(`token stub warm-up: HTTP ${status}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: STUB_WARMUP_LANES }, (_, n) => lane(n)));
  } finally {
    await agent.close();
  }
  return stub;
}

/** Starts one callback server, pinned when `run.pinning` says so, trusting the stub's certificate. */
async function startServer(run, name, stub) {
  const spec = SERVERS[name];
  const child = spawnChild('serve.mjs', [spec.module, stub.url, JSON.stringify(spec.options)], {
    execArgv: run.profileArgs,
    cpu: run.pinning.pinned ? run.pinning.serverCpu : undefined,
    env: run.extraCaEnv,
  });
  const ready = await nextMessage(child, name, 30_000);
  return { name, child, pid: child.pid, port: ready.port };
}

/** A few logins one after the other on `connection`, every field of the user checked. */
async function checkLogins(connection, flow, codePrefix) {
  for (let i = 0; i < 3; i++) await flow.login(connection, `${codePrefix}${i}`, true);
}

function failIfFailed(name, tag, result) {
  if (result.failures > 0 || result.logins === 0) {
    throw new Error(`${name} ${tag}: ${result.failures} failed logins of ${result.logins}: ${result.firstFailure}`);
  }
}

/** Exchanges, rejections and handshakes at the stub between two of its counter readings. */
function stubDelta(name, before, after, logins) {
  if (after.rejected !== before.rejected) throw new Error(`token stub rejected a request: ${after.lastRejection}`);
  const exchanges = after.exchanges - before.exchanges;
  if (exchanges < logins) throw new Error(`${name}: ${logins} logins but only ${exchanges} token exchanges`);
  return { exchanges, handshakes: after.handshakes - before.handshakes, resumed: after.resumed - before.resumed };
}

/** One closed-loop measurement of one fresh server: check, warm up, load. */
export async function measureClosedLoop(run, scenario, name, stub, round) {
  const flow = FLOWS[scenario.flow];
  const tag = `${scenario.id}_r${round}_${name}_`;
  const server = await startServer(run, name, stub);
  const connections = Array.from({ length: scenario.connections }, () => new Connection(server.port));
  try {
    await checkLogins(connections[0], flow, `${run.runId}_check_${tag}`);
    const load = { connections, flow };
    if (run.warmup > 0) {
      const warm = await closedLoop({
        ...load,
        seconds: run.warmup,
        codePrefix: `${run.runId}_w_${tag}`,
        validate: true,
      });
      failIfFailed(name, 'warm-up', warm);
    }
    const before = await stubStats(stub);
    const peak = startPeakRss(server.pid);
    const cpuBefore = cpuMicros(server.pid);
    const result = await closedLoop({ ...load, seconds: run.duration, codePrefix: `${run.runId}_m_${tag}` });
    const cpuUsed = cpuMicros(server.pid) - cpuBefore;
    const peakRss = peak.stop();
    failIfFailed(name, `round ${round}`, result);
    const atStub = stubDelta(name, before, await stubStats(stub), result.logins);
    return {
      round,
      loginsPerSecond: result.loginsPerSecond,
      p50: result.p50,
      p99: result.p99,
      cpuMicrosPerLogin: cpuUsed / result.logins,
      handshakesPer1000: (atStub.handshakes * 1000) / result.logins,
      resumedPer1000: (atStub.resumed * 1000) / result.logins,
      logins: result.logins,
      seconds: result.seconds,
      peakRss,
      peakRssMethod: peak.method,
    };
  } finally {
    for (const connection of connections) connection.close();
    await stopChild(server.child);
  }
}

/**
 * One sparse round: every server fresh with its own stub, checked (which opens its connection),
 * then one login every `gap` seconds, server i offset by i × gap / n. Resolves one entry per server.
 */
export async function measureSparse(run, scenario, names, stubs, round) {
  const flow = FLOWS[scenario.flow];
  const servers = await Promise.all(names.map((name, i) => startServer(run, name, stubs[i])));
  const connections = servers.map((server) => new Connection(server.port));
  try {
    const prefix = `${run.runId}_check_sparse_r${round}_`;
    await Promise.all(servers.map((server, i) => checkLogins(connections[i], flow, `${prefix}${server.name}_`)));
    const gapMs = run.sparseGap * 1000;
    const t0 = performance.now();
    return await Promise.all(
      servers.map((server, i) =>
        sparseLogins(run, server, connections[i], stubs[i], flow, t0 + (i * gapMs) / servers.length, round),
      ),
    );
  } finally {
    for (const connection of connections) connection.close();
    await Promise.all(servers.map((server) => stopChild(server.child)));
  }
}

/** How long after a sparse login's response its CPU is still counted (work the response leaves behind). */
const SPARSE_CPU_TAIL_MS = 50;

async function sparseLogins(run, server, connection, stub, flow, start, round) {
  const gapMs = run.sparseGap * 1000;
  const latencies = [];
  let cpuUsed = 0;
  const before = await stubStats(stub);
  for (let i = 1; i <= run.sparseLogins; i++) {
    await sleep(Math.max(0, start + i * gapMs - performance.now()));
    const cpuBefore = cpuMicros(server.pid);
    const started = performance.now();
    await flow.login(connection, `${run.runId}_sparse_r${round}_${server.name}_${i}`, false);
    latencies.push(performance.now() - started);
    await sleep(SPARSE_CPU_TAIL_MS);
    cpuUsed += cpuMicros(server.pid) - cpuBefore;
  }
  const atStub = stubDelta(server.name, before, await stubStats(stub), latencies.length);
  return {
    round,
    loginsPerSecond: Number.NaN,
    ...latencySummary(latencies),
    cpuMicrosPerLogin: cpuUsed / latencies.length,
    handshakesPer1000: (atStub.handshakes * 1000) / latencies.length,
    resumedPer1000: (atStub.resumed * 1000) / latencies.length,
    logins: latencies.length,
    latencies,
  };
}

/**
 * One fixed-load round's offered rate: `fixedLoad.fraction` of the closed-loop logins/s of a
 * fresh `fixedLoad.capacityOf` server at `capacityConnections`, measured for `run.capacitySeconds`
 * after the usual warm-up.
 */
export async function measureCapacity(run, scenario, stub, round) {
  const { capacityOf, capacityConnections, fraction } = scenario.fixedLoad;
  const saturated = { ...scenario, id: `${scenario.id}-capacity`, connections: capacityConnections };
  const measured = await measureClosedLoop(
    { ...run, duration: run.capacitySeconds },
    saturated,
    capacityOf,
    stub,
    round,
  );
  return {
    round,
    server: capacityOf,
    loginsPerSecond: measured.loginsPerSecond,
    offeredPerSecond: measured.loginsPerSecond * fraction,
  };
}

/**
 * One fixed-load measurement of one fresh server: check, warm up at the offered rate (every login
 * checked, any failure fails the run), then the measured open-loop run at the same rate on the
 * connections the warm-up left open. Failed logins of the measured run are counted, not fatal.
 */
export async function measureFixedLoad(run, scenario, name, stub, round, rate) {
  const flow = FLOWS[scenario.flow];
  const tag = `${scenario.id}_r${round}_${name}_`;
  const server = await startServer(run, name, stub);
  const pool = new ConnectionPool(server.port, scenario.connections);
  try {
    const first = pool.take();
    await checkLogins(first, flow, `${run.runId}_check_${tag}`);
    pool.release(first);
    const load = { pool, rate, flow };
    if (run.warmup > 0) {
      const warm = await openLoop({
        ...load,
        seconds: run.warmup,
        codePrefix: `${run.runId}_w_${tag}`,
        validate: true,
      });
      failIfFailed(name, 'warm-up', warm);
    }
    const before = await stubStats(stub);
    const cpuBefore = cpuMicros(server.pid);
    const result = await openLoop({ ...load, seconds: run.duration, codePrefix: `${run.runId}_m_${tag}` });
    const cpuUsed = cpuMicros(server.pid) - cpuBefore;
    if (result.logins === 0) failIfFailed(name, `round ${round}`, result);
    const atStub = stubDelta(name, before, await stubStats(stub), result.logins);
    return {
      round,
      offeredPerSecond: rate,
      loginsPerSecond: result.loginsPerSecond,
      p50: result.p50,
      p99: result.p99,
      p999: result.p999,
      failures: result.failures,
      firstFailure: result.firstFailure,
      cpuMicrosPerLogin: cpuUsed / result.logins,
      handshakesPer1000: (atStub.handshakes * 1000) / result.logins,
      resumedPer1000: (atStub.resumed * 1000) / result.logins,
      connections: result.connections,
      generatorLateP99: result.lateP99,
      logins: result.logins,
      seconds: result.seconds,
    };
  } finally {
    pool.close();
    await stopChild(server.child);
  }
}
