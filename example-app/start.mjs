// `npm start`: the sample app with the bundled Persona emulator, on http://127.0.0.1:$PORT.
//
// Environment:
//   PORT              port to listen on (default 3000; 0 picks a free one)
//   SESSION_SECRET    signs the session cookie (random per run when unset)
//   REDIS_URL         keep sessions in Redis (connect-redis) instead of memory
//   PERSONA_API_KEY   talk to a real Persona as the recipient; the simulated owner side is hidden
//   PERSONA_BASE_URL  with PERSONA_API_KEY: the API to use (default https://api.withpersona.com)
//   PERSONA_AUTHORIZATION_URL  with PERSONA_API_KEY: the data owner's share page, if any
import { randomBytes } from 'node:crypto';
import { startPersonaEmulator } from 'passport-withpersona/testing';
import { startApp } from './app.mjs';
import { emulatorSides } from './emulator-sides.mjs';
import { createSessionStore } from './sessions.mjs';

const HOST = '127.0.0.1';

function parsePort(value) {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(value)}`);
    process.exit(1);
  }
  return port;
}

const port = parsePort(process.env.PORT);
const realPersona = Boolean(process.env.PERSONA_API_KEY);

let sessionSecret = process.env.SESSION_SECRET;
if (!sessionSecret) {
  sessionSecret = randomBytes(32).toString('base64url');
  console.log('note: SESSION_SECRET is not set; using a random one, so sessions end when the app stops');
  console.log('      (set it, the same on every instance, to keep sessions across restarts and instances).');
}

const resources = [];
async function shutdown(code) {
  // Close in reverse order of start: the app, then its session store, then the emulator.
  for (const close of resources.reverse()) {
    try {
      await close();
    } catch (error) {
      console.error(`shutdown: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  process.exit(code);
}

let stopping = false;
function stop(reason) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${reason}: shutting down`);
  void shutdown(0);
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(signal));

// `npm start` runs this file under `sh -c`. npm passes a SIGTERM on to that shell, which dies
// without passing it on to us: without this, the app would keep running and listening after
// npm (and whatever supervised it) had exited. So when the process that started this one goes
// away, stop as if signalled.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) stop('parent process exited');
}, 200).unref();

try {
  let persona;
  let owner;
  let authorizationURL;
  if (process.env.PERSONA_API_KEY) {
    persona = {
      apiKey: process.env.PERSONA_API_KEY,
      baseURL: process.env.PERSONA_BASE_URL || undefined,
      organizationName: 'Your organisation (Org B)',
    };
    authorizationURL = process.env.PERSONA_AUTHORIZATION_URL || undefined;
  } else {
    const emulator = await startPersonaEmulator({ host: HOST, seed: 'passport-withpersona example-app' });
    resources.push(() => emulator.close());
    ({ persona, owner } = emulatorSides(emulator, { label: `the bundled Persona emulator at ${emulator.url}` }));
    console.log(`Persona emulator: ${emulator.url}`);
    console.log(`  Org A (data owner): ${emulator.owner.name} ${emulator.owner.id}`);
    console.log(`  Org B (recipient):  ${emulator.recipient.name} ${emulator.recipient.id}`);
  }

  const sessions = await createSessionStore({
    redisUrl: process.env.REDIS_URL || undefined,
    log: (message, error) => console.error(`${message}: ${error instanceof Error ? error.message : ''}`),
  });
  resources.push(() => sessions.close());
  console.log(`Sessions: ${sessions.kind === 'redis' ? 'Redis (REDIS_URL)' : 'in memory'}`);

  const running = await startApp({
    host: HOST,
    port,
    sessionSecret,
    sessionStore: sessions.store,
    persona,
    owner,
    authorizationURL,
  });
  resources.push(() => running.close());
  if (realPersona) {
    console.log(`Persona API: ${persona.baseURL ?? 'https://api.withpersona.com'} (owner side hidden)`);
  }
  console.log(`\nSample app: ${running.url}/\n`);
} catch (error) {
  console.error(`could not start: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown(1);
}
