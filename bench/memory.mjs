// Heap retained per login: one callback server in this process (started with --expose-gc), driven
// through real HTTP on loopback by an undici Pool, against the token stub in its own process.
// Usage: node --expose-gc bench/memory.mjs <server-name> <tokenBase> <logins>
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { exitWithParent, reportReady } from './child.mjs';

const [name, tokenBase, loginsArg] = process.argv.slice(2);
const logins = Number(loginsArg);
if (!name || !tokenBase || !Number.isInteger(logins) || logins <= 0) {
  console.error('usage: node --expose-gc bench/memory.mjs <server-name> <token-base-url> <logins>');
  process.exit(2);
}
if (typeof globalThis.gc !== 'function') {
  console.error('bench/memory.mjs needs node --expose-gc');
  process.exit(2);
}

const CONCURRENCY = 16;
let server;
let client;
let closeApp = () => {};
exitWithParent(() => {
  server?.close();
  client?.destroy();
  closeApp();
});

async function fullGc() {
  // Several passes with turns of the event loop in between, so finalizers and weak refs settle.
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

async function drive(prefix, count) {
  let next = 0;
  let failures = 0;
  let firstFailure = null;
  async function lane() {
    while (next < count) {
      const i = next++;
      const { statusCode, body } = await client.request({
        method: 'GET',
        path: `/callback?code=${prefix}${i}`,
      });
      const text = await body.text();
      if (statusCode !== 200 || !text.includes('"accessToken"')) {
        failures++;
        firstFailure ??= `${statusCode} ${text.slice(0, 200)}`;
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  if (failures) throw new Error(`${failures} failed logins, first: ${firstFailure}`);
}

const { create } = await import(`./servers/${name}.mjs`);
const app = await create({ tokenBase, options: {} });
closeApp = app.close;
server = http.createServer(app.handler);
server.keepAliveTimeout = 65_000;
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
client = new Pool(`http://127.0.0.1:${server.address().port}`, {
  connections: CONCURRENCY,
  keepAliveTimeout: 60_000,
});

const warmup = Math.min(2_000, logins);
await drive('memwarm', warmup);
const before = await fullGc();
const started = performance.now();
await drive('memcode', logins);
const seconds = (performance.now() - started) / 1000;
const after = await fullGc();

await reportReady({
  server: name,
  logins,
  heapBefore: before,
  heapAfter: after,
  retainedPerLogin: (after - before) / logins,
  loginsPerSecond: logins / seconds,
  rss: process.memoryUsage().rss,
});
await client.close();
await new Promise((resolve) => server.close(resolve));
closeApp();
process.exit(0);
