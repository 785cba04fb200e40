import { createServer } from 'node:net';
import request from 'supertest';
import { expect } from 'vitest';
import type { PersonaEmulator } from '../../src/testing/index.js';
import type { SampleApp, SampleAppOptions } from '../../example-app/app.mjs';
import { emulatorSides } from '../../example-app/emulator-sides.mjs';

type SampleModule = typeof import('../../example-app/app.mjs');
type SessionsModule = typeof import('../../example-app/sessions.mjs');

// The sample imports the library by its package name (resolved through package.json `exports`
// to dist/), as a user's app would. Loading it by file URL keeps it on Node's own resolver.
export async function loadSample(): Promise<SampleModule> {
  return (await import(/* @vite-ignore */ new URL('../../example-app/app.mjs', import.meta.url).href)) as SampleModule;
}

export async function loadSessions(): Promise<SessionsModule> {
  return (await import(
    /* @vite-ignore */ new URL('../../example-app/sessions.mjs', import.meta.url).href
  )) as SessionsModule;
}

export const PUBLIC_URL = 'http://127.0.0.1:3999';
export const CALLBACK_URL = `${PUBLIC_URL}/auth/persona/callback`;
export const SESSION_SECRET = 'example-app test secret, long enough to be realistic';

/** Options for an app simulating both organisations on the given emulator. */
export function sampleOptions(emulator: PersonaEmulator, overrides: Partial<SampleAppOptions> = {}): SampleAppOptions {
  return {
    publicURL: PUBLIC_URL,
    sessionSecret: SESSION_SECRET,
    ...emulatorSides(emulator),
    log: () => undefined,
    // Each suite signs in many times from one address; rate-limit.test.ts checks the limit.
    signInLimit: Number.POSITIVE_INFINITY,
    ...overrides,
  };
}

/** A Location header (absolute or not) as a path with its query, to replay against any instance. */
export function pathOf(location: string | undefined): string {
  expect(location, 'a Location header').toBeTypeOf('string');
  const url = new URL(location as string, PUBLIC_URL);
  return `${url.pathname}${url.search}`;
}

/** The value of a hidden (or any) input named `name` in an HTML page. */
export function inputValue(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  expect(match, `an input named ${name}`).not.toBeNull();
  return (match as RegExpExecArray)[1] as string;
}

/** Form fields: a name given an array is sent once per value. */
export type FormFields = Record<string, string | string[]>;

/** `fields` as an application/x-www-form-urlencoded body. */
export function formBody(fields: FormFields): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const one of [value].flat()) params.append(name, one);
  }
  return params.toString();
}

/** The owner's share form on page `html`, filled in: `decision` on `inquiries`. */
export function shareFields(
  html: string,
  inquiries: string | string[],
  decision: 'share' | 'decline' = 'share',
): FormFields {
  return {
    _csrf: inputValue(html, '_csrf'),
    state: unescapeHtml(inputValue(html, 'state')),
    redirect_uri: unescapeHtml(inputValue(html, 'redirect_uri')),
    decision,
    inquiry: inquiries,
  };
}

/**
 * One browser: a cookie jar, reduced to what these apps set (one host-only cookie per name),
 * shared by its tabs and updated as each answer arrives, whichever instance a request reaches:
 * an app in process, or a running one by its URL. An expired cookie leaves the jar.
 */
export class Browser {
  readonly #jar = new Map<string, string>();

  async get(target: string | SampleApp['app'], path: string): Promise<request.Response> {
    return this.#keep(await this.#withCookies(request(target).get(path)));
  }

  async post(target: string | SampleApp['app'], path: string, fields: FormFields): Promise<request.Response> {
    return this.#keep(await this.#withCookies(request(target).post(path)).type('form').send(formBody(fields)));
  }

  #withCookies(test: request.Test): request.Test {
    const cookie = [...this.#jar].map(([name, value]) => `${name}=${value}`).join('; ');
    return cookie ? test.set('cookie', cookie) : test;
  }

  #keep(res: request.Response): request.Response {
    for (const line of [(res.headers['set-cookie'] as string[] | string | undefined) ?? []].flat()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const expired = attributes.some((a) => /^(expires=thu, 01 jan 1970|max-age=0$)/i.test(a.trim()));
      if (expired) this.#jar.delete(name);
      else this.#jar.set(name, pair.slice(at + 1));
    }
    return res;
  }
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
// Below Linux's ephemeral range (32768–60999): a port handed out here cannot be taken in the
// meantime by a server the process under test binds to port 0 (start.mjs's emulator does).
const FIXED_PORTS = { from: 20_000, to: 32_000 };

function listensOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 that nothing listens on, outside the range port 0 picks from. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 100; tries += 1) {
    const port = FIXED_PORTS.from + Math.floor(Math.random() * (FIXED_PORTS.to - FIXED_PORTS.from));
    if (await listensOn(port)) return port;
  }
  throw new Error('no free port found below the ephemeral range');
}

/** Decodes the HTML entities html.mjs produces, to compare attribute values with raw strings. */
export function unescapeHtml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The access tokens the emulator has seen as Bearer credentials (i.e. not an API key). */
export function bearerTokensSeen(emulator: PersonaEmulator): string[] {
  const keys = new Set(emulator.organizations.map((org) => org.apiKey));
  const tokens = new Set<string>();
  for (const request of emulator.requests) {
    const header = request.headers.authorization;
    const token = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header)?.[1] : undefined;
    if (token && !keys.has(token)) tokens.add(token);
  }
  return [...tokens];
}

/** Signs that a page leaked internals: a stack trace, file paths, an error class dump. */
export function expectNoInternals(html: string): void {
  expect(html).not.toMatch(/\n\s+at [\w.<>]+ \(/);
  expect(html).not.toMatch(/node_modules|file:\/\//);
  expect(html).not.toMatch(/PersonaOAuthError:|TypeError|ReferenceError/);
}
