// Memory of the sample app under a flood of anonymous sign-in starts: `GET /auth/persona` with
// no cookie, each of which creates a session holding a pending state. The app (memory session
// store, bundled emulator) runs in a child process with --expose-gc; this process sends the
// requests and asks the child for its memory after a full GC, before and after the flood.
//
//   npm run build && node example-app/flood.mjs [--starts 30000] [--concurrency 50] [--path /auth/persona]
//
// --path /healthz (no session) gives the floor: what any 30,000 requests cost the process.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startPersonaEmulator } from 'passport-withpersona/testing';
import { Pool } from 'undici';
import { startApp } from './app.mjs';
import { emulatorSides } from './emulator-sides.mjs';
import { createSessionStore } from './sessions.mjs';

const MB = 1024 * 1024;

async function serve() {
  const { gc } = globalThis;
  const send = process.send?.bind(process);
  if (!gc || !send) throw new Error('flood.mjs: the app runs as a forked child with --expose-gc');
  const emulator = await startPersonaEmulator();
  const sessions = await createSessionStore();
  const app = await startApp({
    sessionSecret: 'flood measurement secret',
    sessionStore: sessions.store,
    ...emulatorSides(emulator),
    // The flood measures the session store, so it comes from one address without a limit.
    signInLimit: Number.POSITIVE_INFINITY,
    log: () => {},
  });
  process.on('message', async (message) => {
    if (message === 'measure') {
      gc();
      gc();
      const { rss, heapUsed } = process.memoryUsage();
      send({ rss, heapUsed });
    } else if (message === 'stop') {
      await app.close();
      await sessions.close();
      await emulator.close();
      process.exit(0);
    }
  });
  send({ url: app.url });
}

async function flood(pool, path, starts, concurrency) {
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < starts) {
      next += 1;
      const { statusCode, body } = await pool.request({ path, method: 'GET' });
      await body.dump();
      if (statusCode >= 400) failures += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failures;
}

async function main() {
  const { values } = parseArgs({
    options: {
      starts: { type: 'string', default: '30000' },
      concurrency: { type: 'string', default: '50' },
      path: { type: 'string', default: '/auth/persona' },
    },
  });
  const { path } = values;
  const starts = Number(values.starts);
  const concurrency = Number(values.concurrency);
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--expose-gc'] });
  const measure = async () => {
    child.send('measure');
    const [usage] = await once(child, 'message');
    return usage;
  };
  const [{ url }] = await once(child, 'message');
  const pool = new Pool(url, { connections: concurrency });
  // Warm up (code paths compiled, pools open) so "before" is the app at rest, not at boot.
  await flood(pool, path, 200, 10);
  const before = await measure();
  const started = performance.now();
  const failures = await flood(pool, path, starts, concurrency);
  const seconds = (performance.now() - started) / 1000;
  const after = await measure();
  await pool.close();
  child.send('stop');
  await once(child, 'exit');
  const show = (u) => `RSS ${(u.rss / MB).toFixed(1)} MB, heap ${(u.heapUsed / MB).toFixed(1)} MB`;
  console.log(`${starts} anonymous GET ${path} in ${seconds.toFixed(1)} s, ${failures} failed`);
  console.log(`before: ${show(before)}`);
  console.log(`after:  ${show(after)}`);
  console.log(
    `growth: RSS ${((after.rss - before.rss) / MB).toFixed(1)} MB, heap ${((after.heapUsed - before.heapUsed) / MB).toFixed(1)} MB`,
  );
}

if (process.argv.includes('--serve')) await serve();
else await main();
