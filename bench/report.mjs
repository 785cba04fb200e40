// What a run's figures become: per-server medians and spread, paired per-round ratios, the goals
// of the benchmark, the console tables, the generated section of BENCHMARKS.md and the SVG plot.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { SERVERS } from './common.mjs';
import { latencySummary } from './load.mjs';

const METRICS = ['loginsPerSecond', 'p50', 'p99', 'cpuMicrosPerLogin', 'handshakesPer1000'];
/** The fixed-load scenario's further figures; of these only p99.9 gets a ratio column. */
const FIXED_LOAD_METRICS = ['offeredPerSecond', 'p999', 'failures', 'connections', 'generatorLateP99'];
/** Below this many bytes retained per login after GC, the heap counts as flat. */
export const HEAP_FLAT_BYTES = 10;

export const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

export function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function spread(values) {
  const finite = values.filter(Number.isFinite);
  return finite.length
    ? { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) }
    : { median: Number.NaN, min: Number.NaN, max: Number.NaN };
}

/**
 * One server's figures over the rounds: the median and range of each metric. A sparse scenario
 * has a handful of logins per round, so its latencies are pooled across rounds instead.
 */
export function summarizeServer(name, rounds) {
  const figures = {};
  const fixedLoad = rounds.some((r) => r.offeredPerSecond !== undefined);
  for (const metric of fixedLoad ? [...METRICS, ...FIXED_LOAD_METRICS] : METRICS) {
    figures[metric] = spread(rounds.map((r) => r[metric]));
  }
  if (fixedLoad) figures.failures.total = rounds.reduce((sum, r) => sum + r.failures, 0);
  if (rounds.every((r) => Array.isArray(r.latencies))) {
    const pooled = latencySummary(rounds.flatMap((r) => r.latencies));
    figures.p50.median = pooled.p50;
    figures.p99.median = pooled.p99;
    const logins = rounds.reduce((sum, r) => sum + r.logins, 0);
    const handshakes = rounds.reduce((sum, r) => sum + (r.handshakesPer1000 * r.logins) / 1000, 0);
    figures.handshakesPer1000.median = (handshakes * 1000) / logins;
  }
  return { name, label: SERVERS[name]?.label ?? name, rounds, figures };
}

/** `reference` ÷ each other server, metric by metric, round by round (servers met in the same round). */
export function pairedRatios(servers) {
  const [reference, ...others] = servers;
  if (!reference) return {};
  const ratios = {};
  const metrics = reference.figures.p999 ? [...METRICS, 'p999'] : METRICS;
  for (const other of others) {
    ratios[other.name] = {};
    for (const metric of metrics) {
      const perRound = reference.rounds.map((r) => {
        const o = other.rounds.find((x) => x.round === r.round);
        return o && o[metric] !== 0 ? r[metric] / o[metric] : Number.NaN;
      });
      ratios[other.name][metric] = { perRound, ...spread(perRound) };
    }
  }
  return ratios;
}

// ---------------------------------------------------------------- goals

function scenario(results, id) {
  return results.scenarios.find((s) => s.id === id);
}

function ratioOf(results, id, other, metric) {
  return scenario(results, id)?.ratios[other]?.[metric]?.median ?? Number.NaN;
}

function figureOf(results, id, name, metric) {
  return scenario(results, id)?.servers.find((s) => s.name === name)?.figures[metric].median ?? Number.NaN;
}

const LIB = 'passport-withpersona';
const compare = { '≤': (v, limit) => v <= limit, '≥': (v, limit) => v >= limit };

/** A goal on a paired ratio: the library ÷ `other` in scenario `id`, compared with a fixed limit. */
function ratioGoal(key, text, id, other, metric, op, limit, target = `${op} ${limit}`) {
  return { key, text, op, target: () => target, value: (r) => ratioOf(r, id, other, metric), limit: () => limit };
}

/**
 * The benchmark's goals: how each value is read from a run, the limit it is held to, and how
 * both are shown (`digits`, `unit`; two decimals and no unit unless given).
 */
const GOALS = [
  ratioGoal(
    'loopback-cpu',
    'loopback CPU/login ÷ dispatch() floor',
    'loopback',
    'passport-dispatch',
    'cpuMicrosPerLogin',
    '≤',
    1.1,
  ),
  ratioGoal(
    'loopback-throughput',
    'loopback logins/s ÷ passport-oauth2',
    'loopback',
    'passport-oauth2',
    'loginsPerSecond',
    '≥',
    1.2,
    '≥ 1.2 (stretch 1.3)',
  ),
  ratioGoal(
    'tls-500-throughput',
    'TLS 500 logins/s ÷ passport-oauth2',
    'tls-500',
    'passport-oauth2',
    'loginsPerSecond',
    '≥',
    1.3,
  ),
  ratioGoal('tls-500-p99', 'TLS 500 p99 ÷ passport-oauth2', 'tls-500', 'passport-oauth2', 'p99', '≤', 0.5),
  {
    key: 'sparse-p50',
    text: 'sparse p50',
    op: '≤',
    value: (r) => figureOf(r, 'sparse', LIB, 'p50'),
    limit: (r) => r.options.roundTripMs + 5,
    target: (limit) => `≤ ${limit} ms`,
    digits: 1,
    unit: ' ms',
  },
  {
    key: 'sparse-handshakes',
    text: 'sparse new handshakes/login',
    op: '≤',
    value: (r) => figureOf(r, 'sparse', LIB, 'handshakesPer1000') / 1000,
    limit: () => 0,
    target: () => '= 0',
  },
  {
    key: 'tls-50-p50',
    text: 'TLS 50 server-added p50',
    op: '≤',
    value: (r) => figureOf(r, 'tls-50', LIB, 'p50') - r.options.roundTripMs,
    limit: (r) => figureOf(r, 'tls-50', 'passport-oauth2', 'p50') - r.options.roundTripMs,
    target: (limit) => `≤ passport-oauth2's ${fmt(limit, 1)} ms`,
    digits: 1,
    unit: ' ms',
  },
  ratioGoal(
    'readme-throughput',
    'README setup logins/s ÷ passport-oauth2',
    'readme',
    'readme-oauth2',
    'loginsPerSecond',
    '≥',
    1.1,
  ),
  {
    key: 'heap',
    text: 'heap retained per login',
    op: '≤',
    value: (r) => r.memory.find((m) => m.server === LIB)?.retainedPerLogin ?? Number.NaN,
    limit: () => HEAP_FLAT_BYTES,
    target: (limit) => `≤ ${limit} bytes`,
    digits: 1,
    unit: ' B',
  },
];

/** The goals, each with its measured value and whether it holds (null when not measured). */
export function evaluateGoals(results) {
  return GOALS.map((goal) => {
    const value = goal.value(results);
    const limit = goal.limit(results);
    return {
      id: goal.key,
      text: goal.text,
      value,
      limit,
      target: goal.target(limit),
      display: `${fmt(value, goal.digits ?? 2)}${goal.unit ?? ''}`,
      holds: Number.isFinite(value) && Number.isFinite(limit) ? compare[goal.op](value, limit) : null,
    };
  });
}

const verdict = (holds) => (holds === null ? 'not measured' : holds ? 'holds' : 'MISSED');

/** The last line of a run: every goal, its value, holds or not. */
export function goalLine(goals) {
  return `goals: ${goals.map((g) => `${g.text} ${g.display} (${g.target}) ${verdict(g.holds)}`).join('; ')}`;
}

// ---------------------------------------------------------------- console

function textTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const HEADER = [
  'server',
  'logins/s',
  'p50 ms',
  'p99 ms',
  'CPU µs/login',
  'handshakes/1000',
  'ref ÷ this: logins/s',
  'p99',
  'CPU',
];

function ratioCell(r) {
  if (!r) return '';
  return Number.isFinite(r.median) ? `${fmt(r.median, 2)} (${fmt(r.min, 2)}–${fmt(r.max, 2)})` : '–';
}

function scenarioRows(s) {
  return s.servers.map((server) => {
    const f = server.figures;
    const r = s.ratios[server.name];
    return [
      server.name,
      fmt(f.loginsPerSecond.median),
      fmt(f.p50.median, 1),
      fmt(f.p99.median, 1),
      fmt(f.cpuMicrosPerLogin.median),
      fmt(f.handshakesPer1000.median, 1),
      ratioCell(r?.loginsPerSecond),
      ratioCell(r?.p99),
      ratioCell(r?.cpuMicrosPerLogin),
    ];
  });
}

const FIXED_LOAD_HEADER = [
  'server',
  'offered/s',
  'achieved/s',
  'p50 ms',
  'p99 ms',
  'p99.9 ms',
  'failed',
  'CPU µs/login',
  'handshakes/1000',
  'connections',
  'ref ÷ this: p99',
  'p99.9',
  'CPU',
];

/** The fixed-load scenario's rows: the offered and achieved rates, latencies up to p99.9, failures. */
function fixedLoadRows(s) {
  return s.servers.map((server) => {
    const f = server.figures;
    const r = s.ratios[server.name];
    return [
      server.name,
      fmt(f.offeredPerSecond.median),
      fmt(f.loginsPerSecond.median),
      fmt(f.p50.median, 1),
      fmt(f.p99.median, 1),
      fmt(f.p999.median, 1),
      String(f.failures.total),
      fmt(f.cpuMicrosPerLogin.median),
      fmt(f.handshakesPer1000.median, 1),
      fmt(f.connections.median),
      ratioCell(r?.p99),
      ratioCell(r?.p999),
      ratioCell(r?.cpuMicrosPerLogin),
    ];
  });
}

/** What the fixed-load scenario's rate was set from, and how late its generator sent (one line). */
function fixedLoadNote(s) {
  const { capacity, capacityOf, capacityConnections, fraction } = s.fixedLoad;
  const rates = spread(capacity.map((c) => c.loginsPerSecond));
  const late = spread(s.servers.flatMap((server) => server.rounds.map((r) => r.generatorLateP99)));
  return (
    `${capacityOf}'s closed-loop capacity at ${capacityConnections} connections: ${fmt(rates.median)} logins/s ` +
    `(${fmt(rates.min)}–${fmt(rates.max)} over the rounds); offered: ${fraction} × that rate, measured anew in each round. ` +
    `The generator sent its logins at most ${fmt(late.max, 1)} ms late at p99 (median ${fmt(late.median, 1)} ms).`
  );
}

export function printScenario(s) {
  console.log(`\n${s.title}`);
  if (s.fixedLoad) {
    console.log(fixedLoadNote(s));
    console.log(textTable(FIXED_LOAD_HEADER, fixedLoadRows(s)));
    return;
  }
  console.log(textTable(HEADER, scenarioRows(s)));
}

// ---------------------------------------------------------------- BENCHMARKS.md

export const GENERATED_START = '<!-- bench/run.mjs writes from here to the end marker; edit around it. -->';
export const GENERATED_END = '<!-- end of the section bench/run.mjs writes -->';

function markdownFixedLoad(s) {
  const reference = s.servers[0]?.name;
  const lines = [
    `### ${s.title}`,
    '',
    fixedLoadNote(s),
    '',
    `| server | offered logins/s | achieved logins/s | p50 ms | p99 ms | p99.9 ms | failed logins | server CPU µs/login | new TLS handshakes per 1,000 logins | most connections in use at once | ${reference} ÷ this: p99 | p99.9 | CPU |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...fixedLoadRows(s).map((row, i) => `| ${[s.servers[i]?.label ?? row[0], ...row.slice(1)].join(' | ')} |`),
    '',
  ];
  return lines.join('\n');
}

function markdownScenario(s) {
  if (s.fixedLoad) return markdownFixedLoad(s);
  const reference = s.servers[0]?.name;
  const lines = [
    `### ${s.title}`,
    '',
    `| server | logins/s | p50 ms | p99 ms | server CPU µs/login | new TLS handshakes per 1,000 logins | ${reference} ÷ this: logins/s | p99 | CPU |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...scenarioRows(s).map((row, i) => `| ${[s.servers[i]?.label ?? row[0], ...row.slice(1)].join(' | ')} |`),
    '',
  ];
  return lines.join('\n');
}

/** The fixed-load options of a run (none in results from before the scenario existed). */
function fixedLoadOptions(o) {
  if (o.loadFraction === undefined) return '';
  return `; fixed load: ${o.loadFraction} × passport-oauth2's capacity, measured for ${o.capacitySeconds} s`;
}

function markdownSection(results) {
  const m = results.machine;
  const o = results.options;
  const p = results.pinning;
  const goals = results.goals.map((g) => `| ${g.text} | ${g.display} | ${g.target} | ${verdict(g.holds)} |`);
  const memory = results.memory.map(
    (x) =>
      `| ${x.server} | ${fmt(x.retainedPerLogin, 1)} | ${fmt(x.heapBefore / 2 ** 20, 1)} → ${fmt(x.heapAfter / 2 ** 20, 1)} |`,
  );
  return `${GENERATED_START}
## Latest run

- Date: ${results.date}; command: \`${results.command}\`
- Machine: ${m.cpuModel}, ${m.nproc} CPUs, ${m.memoryGB} GB RAM, ${m.os}; Node ${m.node}
- passport-withpersona ${results.library.version}, commit ${results.library.commit}
- Pinning: ${p.pinned ? `callback server alone on CPU ${p.serverCpu}; runner, load generator and token stubs on CPU ${p.otherCpus}` : `none (${p.reason})`}
- ${o.rounds} round(s) of ${o.duration} s per server after ${o.warmup} s of warm-up; round trip ${o.roundTripMs} ms;
  sparse: ${o.sparseLogins} logins per round, ${o.sparseGap} s apart${fixedLoadOptions(o)}

Each figure is the median over the rounds; the ratio columns are the first server of the table
divided by that row's server, round by round (servers measured in the same round), as the median
and (in brackets) the lowest and highest round.

${results.scenarios.map(markdownScenario).join('\n')}
### Goals

| goal | measured | target | |
|---|---:|---|---|
${goals.join('\n')}

### Heap retained per login

| server | bytes retained per login after GC | heap MB before → after |
|---|---:|---|
${memory.join('\n')}

![logins/s and p99 per scenario](bench/results.svg)
${GENERATED_END}`;
}

/** Rewrites the generated section of BENCHMARKS.md, keeping everything written around it. */
export function writeBenchmarksMd(file, results) {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = previous.indexOf(GENERATED_START);
  const end = previous.indexOf(GENERATED_END);
  const section = markdownSection(results);
  const text =
    start === -1 || end === -1
      ? `${previous.trimEnd()}\n\n${section}\n`
      : previous.slice(0, start) + section + previous.slice(end + GENERATED_END.length);
  writeFileSync(file, text);
}
