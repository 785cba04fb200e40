// The sign-in promises of SECURITY.md ("Invariants"), checked over random interleavings rather
// than as a list of named attacks. Each run builds one or two recipient apps (Express, Passport,
// the strategy) on the real emulator, lets two or three browsers (cookie jars) start flows, gives
// every flow its own code, and then fires callbacks at once: the rightful ones, double clicks,
// stolen codes with the thief's own state, another browser's state, forged or missing states,
// each after a random delay, while Persona answers slowly, rate-limits the first attempt or resets
// the connection. When every answer is in, the invariants are checked on what the browsers got.
//
// Seeded and bounded (about 10 s). To replay a failure: PWP_MODEL_SEED=<seed> PWP_MODEL_PATH=<path>.
import { randomBytes } from 'node:crypto';
import express, { type Express } from 'express';
import session from 'express-session';
import fc from 'fast-check';
import { Passport } from 'passport';
import { describe, expect, it } from 'vitest';
import { PersonaStrategy, type PersonaStrategyOptions } from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { Browser } from '../example-app/helpers.js';
import { readCode, useEmulator } from '../helpers/emulator.js';

let emulator: PersonaEmulator;
useEmulator((started) => {
  emulator = started;
});

const SECRET = 'model-test-signing-secret-0123456789abcdef';

/** Which state a callback carries, seen from the browser that sends it. */
type StateChoice =
  | 'flow' // the state of the flow the code was issued for (the whole callback URL, stolen or not)
  | 'mine' // the latest state this browser started itself
  | 'theirs' // a state another browser started
  | 'forged'
  | 'none';

interface Callback {
  browser: number;
  /** The flow whose code is presented. */
  flow: number;
  state: StateChoice;
  delayMs: number;
  instance: number;
}

interface Scenario {
  stateKind: 'session' | 'signed';
  instances: number;
  /** For each flow, the browser that started it. */
  flowOwners: number[];
  persona: { latencyMs: number; first: 'ok' | '429' | 'reset' };
  callbacks: Callback[];
}

const BROWSERS = 3;

const scenarios: fc.Arbitrary<Scenario> = fc
  .record({
    stateKind: fc.constantFrom('session' as const, 'signed' as const),
    instances: fc.integer({ min: 1, max: 2 }),
    flowOwners: fc.array(fc.integer({ min: 0, max: BROWSERS - 1 }), { minLength: 1, maxLength: 3 }),
    persona: fc.record({
      latencyMs: fc.constantFrom(0, 30, 80),
      first: fc.constantFrom('ok' as const, 'ok' as const, '429' as const, 'reset' as const),
    }),
  })
  .chain((base) => {
    const flows = base.flowOwners.length;
    const callback = (browser: fc.Arbitrary<number>, flow: fc.Arbitrary<number>, state: fc.Arbitrary<StateChoice>) =>
      fc.record({
        browser,
        flow,
        state,
        delayMs: fc.integer({ min: 0, max: 60 }),
        instance: fc.integer({ min: 0, max: base.instances - 1 }),
      });
    // Every flow's rightful callback may be there (most often it is), then anyone's.
    const rightful = base.flowOwners.map((owner, flow) =>
      fc.option(callback(fc.constant(owner), fc.constant(flow), fc.constant<StateChoice>('flow')), { freq: 4 }),
    );
    const anyone = callback(
      fc.integer({ min: 0, max: BROWSERS - 1 }),
      fc.integer({ min: 0, max: flows - 1 }),
      fc.constantFrom<StateChoice>('flow', 'mine', 'mine', 'theirs', 'forged', 'none'),
    );
    return fc.tuple(fc.tuple(...rightful), fc.array(anyone, { minLength: 1, maxLength: 5 })).map(([own, extra]) => ({
      ...base,
      callbacks: [...own.filter((c): c is Callback => c !== null), ...extra],
    }));
  });

/** A browser (the sample app tests' cookie jar) and the states it started. */
class ModelBrowser extends Browser {
  readonly startedStates: string[] = [];
}

interface Instance {
  app: Express;
  strategy: PersonaStrategy;
}

function instances(scenario: Scenario): Instance[] {
  const store = new session.MemoryStore();
  const state: PersonaStrategyOptions['state'] =
    scenario.stateKind === 'session' ? true : { signed: { secrets: [SECRET] } };
  return Array.from({ length: scenario.instances }, () => {
    const passport = new Passport();
    const strategy = new PersonaStrategy({
      apiKey: emulator.recipient.apiKey,
      baseURL: emulator.url,
      authorizationURL: 'http://127.0.0.1:9/owner/share',
      state,
      timeoutMs: 3000,
    });
    passport.use(strategy as never);
    const app = express();
    app.use(session({ secret: 'model-session-secret', resave: false, saveUninitialized: false, store }));
    app.get('/start', passport.authenticate('persona', { session: false }));
    app.get('/callback', (req, res, next) => {
      passport.authenticate(
        'persona',
        { session: false },
        (err: unknown, user: unknown, _info: unknown, status: unknown) => {
          if (err) {
            const e = err as { status?: unknown; code?: unknown };
            return res.status(typeof e.status === 'number' ? e.status : 500).json({ error: e.code ?? 'unknown' });
          }
          if (!user) return res.status(typeof status === 'number' ? status : 401).json({ failed: true });
          res.json({ user });
        },
      )(req, res, next);
    });
    return { app, strategy };
  });
}

interface Answer {
  callback: Callback;
  state: string | undefined;
  status: number;
  accessToken: string | undefined;
  text: string;
}

function pickState(
  scenario: Scenario,
  browsers: ModelBrowser[],
  flowStates: string[],
  c: Callback,
): string | undefined {
  const others = browsers.filter((_, i) => i !== c.browser).flatMap((b) => b.startedStates);
  switch (c.state) {
    case 'flow':
      return flowStates[c.flow];
    case 'mine':
      return browsers[c.browser]?.startedStates.at(-1);
    case 'theirs':
      return others[c.flow % Math.max(1, others.length)];
    case 'forged':
      return scenario.stateKind === 'signed'
        ? `v1.${randomBytes(30).toString('base64url')}`
        : randomBytes(24).toString('base64url');
    case 'none':
      return undefined;
  }
}

async function run(scenario: Scenario): Promise<{ answers: Answer[]; codes: string[]; browsers: ModelBrowser[] }> {
  const apps = instances(scenario);
  try {
    const browsers = Array.from({ length: BROWSERS }, () => new ModelBrowser());
    const flowStates: string[] = [];
    for (const [flow, owner] of scenario.flowOwners.entries()) {
      const browser = browsers[owner] as ModelBrowser;
      const started = await browser.get((apps[flow % apps.length] as Instance).app, '/start');
      const state = new URL(String(started.headers.location)).searchParams.get('state');
      if (!state) throw new Error(`no state in ${started.headers.location}`);
      browser.startedStates.push(state);
      flowStates.push(state);
    }
    const codes = scenario.flowOwners.map(() => readCode(emulator));
    const { latencyMs, first } = scenario.persona;
    if (first === '429') {
      emulator.setFault('token', { kind: 'status', status: 429, headers: { 'ratelimit-reset': '0' } }, { times: 1 });
    } else if (first === 'reset') {
      emulator.setFault('token', { kind: 'reset' }, { times: 1 });
    } else if (latencyMs > 0) {
      emulator.setFault('token', { kind: 'latency', ms: latencyMs }, { times: 10 });
    }
    const answers = await Promise.all(
      scenario.callbacks.map(async (c): Promise<Answer> => {
        const state = pickState(scenario, browsers, flowStates, c);
        const query = new URLSearchParams({ code: codes[c.flow] as string });
        if (state !== undefined) query.set('state', state);
        await new Promise((resolve) => setTimeout(resolve, c.delayMs));
        const res = await (browsers[c.browser] as ModelBrowser).get(
          (apps[c.instance] as Instance).app,
          `/callback?${query}`,
        );
        const accessToken = res.status === 200 ? (res.body.user?.accessToken as string | undefined) : undefined;
        return { callback: c, state, status: res.status, accessToken, text: res.text };
      }),
    );
    return { answers, codes, browsers };
  } finally {
    emulator.clearFaults();
    await Promise.all(apps.map((a) => a.strategy.close()));
  }
}

/** Every invariant of SECURITY.md that one run's answers can show broken; empty when all hold. */
function brokenInvariants(outcome: Awaited<ReturnType<typeof run>>): string[] {
  const { answers, codes, browsers } = outcome;
  const broken: string[] = [];
  const successes = answers.filter((a) => a.status === 200);
  // 1. A code signs in at most one browser, and only with a state that browser started.
  for (const [flow, code] of codes.entries()) {
    const signedIn = new Set(successes.filter((a) => a.callback.flow === flow).map((a) => a.callback.browser));
    if (signedIn.size > 1)
      broken.push(`code of flow ${flow} signed in browsers ${[...signedIn].join(' and ')} (${code.slice(0, 6)}…)`);
  }
  for (const a of successes) {
    const own = browsers[a.callback.browser]?.startedStates ?? [];
    if (a.state === undefined || !own.includes(a.state)) {
      broken.push(`browser ${a.callback.browser} signed in with a state it did not start (${a.callback.state})`);
    }
  }
  // 2. A request gets only a token set it caused Persona to issue for its own flow: no access
  //    token reaches two browsers.
  const holders = new Map<string, Set<number>>();
  for (const a of successes) {
    if (!a.accessToken) broken.push('a 200 without an access token');
    else holders.set(a.accessToken, (holders.get(a.accessToken) ?? new Set()).add(a.callback.browser));
  }
  for (const set of holders.values())
    if (set.size > 1) broken.push(`one access token reached browsers ${[...set].join(' and ')}`);
  // 3. No secret in what the app renders: no code, no API key, and no access token in a failure.
  for (const a of answers) {
    const secrets = [emulator.recipient.apiKey, ...codes, ...(a.status === 200 ? [] : [...holders.keys()])];
    if (secrets.some((s) => a.text.includes(s))) broken.push(`a ${a.status} answer carries a secret`);
  }
  // Every answer is a defined outcome: never a 500.
  for (const a of answers) {
    if (![200, 400, 401, 403, 502, 503, 504].includes(a.status))
      broken.push(`undefined outcome ${a.status}: ${a.text}`);
  }
  return broken;
}

describe('the sign-in invariants hold over random interleavings', () => {
  it('for browsers racing codes and states against a slow, limited or resetting Persona', async () => {
    const seed = Number(process.env.PWP_MODEL_SEED ?? 20261203);
    const path = process.env.PWP_MODEL_PATH;
    await fc.assert(
      fc.asyncProperty(scenarios, async (scenario) => {
        const broken = brokenInvariants(await run(scenario));
        expect(broken, JSON.stringify(scenario)).toEqual([]);
      }),
      { seed, numRuns: Number(process.env.PWP_MODEL_RUNS ?? 60), endOnFailure: false, ...(path ? { path } : {}) },
    );
  }, 120_000);
});
