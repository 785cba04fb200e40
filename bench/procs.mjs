// The runner's child processes (servers, token stubs, the heap probe), CPU pinning, and what
// /proc says about them. Every child is forked with an IPC channel and exits when it closes
// (bench/child.mjs), so none outlives the runner, whatever ends it.
import { execFileSync, fork } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const children = new Set();

/** Parses a CPU list as taskset prints it (`0-3,6`) into numbers. */
function parseCpuList(list) {
  const cpus = [];
  for (const part of list.trim().split(',')) {
    const [from, to = from] = part.split('-').map(Number);
    for (let cpu = from; cpu <= to; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/**
 * Decides the pinning: the callback server alone on the last CPU this process may use, everything
 * else (this runner, its load generator, the token stubs) on the others. Pinning needs util-linux
 * `taskset` and at least two CPUs; without them, `{ pinned: false, reason }` and nothing is pinned.
 * When pinned, this process (all its threads) moves to the other CPUs at once; the stubs it forks
 * inherit that.
 */
export function setUpPinning() {
  let allowed;
  try {
    const out = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8', stdio: 'pipe' });
    allowed = parseCpuList(out.slice(out.lastIndexOf(':') + 1));
  } catch {
    return { pinned: false, reason: 'util-linux taskset not found' };
  }
  if (allowed.length < 2) return { pinned: false, reason: `only ${allowed.length} CPU available` };
  const serverCpu = allowed.at(-1);
  const others = allowed.slice(0, -1).join(',');
  try {
    execFileSync('taskset', ['-a', '-c', '-p', others, String(process.pid)], { stdio: 'pipe' });
  } catch (err) {
    return { pinned: false, reason: `taskset failed: ${err.message.split('\n')[0]}` };
  }
  return { pinned: true, serverCpu, otherCpus: others };
}

/**
 * Forks bench/<script>. With `cpu`, it runs under `taskset -c <cpu>` (taskset execs node, so the
 * pid is node's and the IPC channel passes through).
 */
export function spawnChild(script, args, { execArgv = [], cpu, env } = {}) {
  const pin =
    cpu === undefined ? {} : { execPath: 'taskset', execArgv: ['-c', String(cpu), process.execPath, ...execArgv] };
  const child = fork(path.join(here, script), args, {
    cwd: root,
    execArgv,
    env: env ? { ...process.env, ...env } : process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...pin,
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The first message from a child that satisfies `accept`; rejects when it exits or times out. */
export function nextMessage(child, what, timeoutMs, accept = (message) => message?.ready) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message) => {
      if (accept(message)) done(null, message);
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

/** A token stub's counters (bench/stub.mjs), asked over IPC. */
export async function stubStats(stub) {
  const answer = nextMessage(stub.child, 'token stub stats', 10_000, (message) => message?.stats);
  stub.child.send({ stats: true });
  return (await answer).stats;
}

export function stopChild(child, graceMs = 10_000) {
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

export async function stopAllChildren() {
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

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: fixed at 100 on Linux, whatever the kernel's HZ

/**
 * CPU time a process has used so far, in microseconds: the sum of its threads' run time from
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds), or, without schedstat, user + system time from
 * /proc/<pid>/stat (10 ms ticks, too coarse for one login but fine over a run).
 */
export function cpuMicros(pid) {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns / 1000;
  } catch {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS_PER_SECOND;
  }
}

function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Tracks a process's peak RSS over one load run: VmHWM after a reset, else polled VmRSS. */
export function startPeakRss(pid) {
  let reset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    reset = false;
  }
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
