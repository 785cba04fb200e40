import { createHmac, randomBytes } from 'node:crypto';
import { integerOption } from '../options.js';
import { safeEqual } from './compare.js';
import { type attachStateResponse, cookieAccess, forwardedHttps, type CookieAccess } from './cookies.js';
import type { PersonaRequest } from '../request.js';
import type { AppState, StateStore, StateVerification } from './types.js';

/** Options of the signed, stateless state store: the strategy option `state: { signed: { … } }`. */
export interface SignedStateStoreOptions {
  /**
   * HMAC secrets, at least 32 characters each. The first signs; all verify, so a secret can be
   * rotated by putting the new one first and dropping the old one after `ttlSeconds`.
   */
  secrets: readonly string[];
  /** How long a flow may take, in seconds (default 600). */
  ttlSeconds?: number;
  /** Prefix of the per-flow nonce cookies (default `pwp_state`). */
  cookieName?: string;
  /** Pending flows (cookies) kept per browser, oldest evicted beyond it (default 10). */
  maxFlows?: number;
  /**
   * Cookie `Secure` attribute: `'auto'` (default) sets it when the request came over HTTPS as the
   * framework sees it (Express `req.secure`, Fastify `request.protocol`, Koa `ctx.secure`, a TLS
   * socket) or when the first `X-Forwarded-Proto` value is `https` (a TLS-terminating proxy, even
   * without `trust proxy`): it never downgrades a request that came over HTTPS. A Secure cookie
   * is named with the `__Host-` prefix (`__Secure-` when `path` is not `/`).
   */
  secure?: boolean | 'auto';
  /** Cookie `SameSite` (default `lax`; a cross-site form POST callback needs `none` + Secure). */
  sameSite?: 'lax' | 'strict' | 'none';
  /** Cookie `Path` (default `/`; another path turns the `__Host-` prefix into `__Secure-`). */
  path?: string;
}

const FLOW_ID = /^[A-Za-z0-9_-]{16}$/;
const COOKIE_VALUE = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/;

function parseCookies(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const text = Array.isArray(header) ? header.join('; ') : (header ?? '');
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name && !out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

// Node's base64url decoder skips characters it does not know ('L2E!!' reads as '/a'), and
// several encodings (or byte strings) can read as one text: only the canonical form of valid
// UTF-8 is accepted, so a state has exactly one spelling.
function decodeStrictly(encoded: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return undefined;
  const bytes = Buffer.from(encoded, 'base64url');
  if (bytes.toString('base64url') !== encoded) return undefined;
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

/**
 * Stateless CSRF state: each state is an HMAC-signed, expiring token bound to a nonce cookie
 * set on the browser that started the flow, so any instance holding the secrets can verify it
 * without a shared store.
 *
 * Each flow gets its own cookie (`<cookieName>_<flowId>`, `__Host-` prefixed when Secure),
 * cleared when its callback arrives: a state works once per browser, only in the browser that
 * started it, and several tabs work side by side (the oldest is evicted beyond `maxFlows`).
 * Nothing is kept on the server, so that one use is the browser's doing: a client that kept a
 * copy of the cookie can present the state again until it expires. `returnTo` is carried
 * inside the signed token (the store does not check it: pass only what `isSafeReturnTo` accepts).
 *
 * What `state: { signed }` uses; `createCodeExchanger` users call `store(req, appState)` at the
 * start and `verify(req, state)` on the callback themselves. The cookies are read and written
 * through Express's `req.res`, koa-passport's `req.ctx`, or the response named by
 * {@link attachStateResponse} (Fastify, `node:http`); both methods reject with an `Error`
 * naming `attachStateResponse` when none is found.
 *
 * @throws {TypeError} from the constructor for fewer than one secret, a secret shorter than 32
 * characters, or an invalid option.
 */
export class SignedStateStore implements StateStore {
  // #private: a logged or inspected store must not print the signing secrets.
  readonly #secrets: readonly string[];
  private readonly ttlMs: number;
  private readonly cookieName: string;
  private readonly maxFlows: number;
  private readonly secure: boolean | 'auto';
  private readonly sameSite: string;
  private readonly path: string;

  constructor(options: SignedStateStoreOptions) {
    const secrets = options?.secrets;
    if (!Array.isArray(secrets) || secrets.length === 0) {
      throw new TypeError('passport-withpersona: signed state needs at least one secret');
    }
    for (const s of secrets) {
      if (typeof s !== 'string' || s.length < 32) {
        throw new TypeError(
          'passport-withpersona: each signed-state secret must be a string of at least 32 characters',
        );
      }
    }
    this.#secrets = [...secrets];
    this.ttlMs = integerOption('ttlSeconds', options.ttlSeconds, 600) * 1000;
    this.cookieName = options.cookieName ?? 'pwp_state';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(this.cookieName)) {
      throw new TypeError('passport-withpersona: cookieName may hold only letters, digits, _ and -');
    }
    this.maxFlows = integerOption('maxFlows', options.maxFlows, 10);
    this.secure = options.secure ?? 'auto';
    if (this.secure !== 'auto' && typeof this.secure !== 'boolean') {
      throw new TypeError("passport-withpersona: secure must be true, false or 'auto'");
    }
    this.sameSite = options.sameSite ?? 'lax';
    if (!['lax', 'strict', 'none'].includes(this.sameSite)) {
      throw new TypeError('passport-withpersona: sameSite must be lax, strict or none');
    }
    this.path = options.path ?? '/';
    // The path goes into Set-Cookie as is: no separators or control characters.
    if (typeof this.path !== 'string' || !/^\/[\x21-\x3a\x3c-\x7e]*$/.test(this.path)) {
      throw new TypeError('passport-withpersona: path must start with / and hold no ; or spaces');
    }
  }

  private mac(secret: string, flowId: string, expires: string, returnTo: string, nonce: string): string {
    return createHmac('sha256', secret)
      .update(`pwp-state-v1\n${flowId}\n${expires}\n${returnTo}\n${nonce}`)
      .digest('base64url');
  }

  // An upgrade on the proxy's hint is safe: a browser on HTTPS takes the Secure cookie, and a
  // client that spoofs the header over plain HTTP only breaks its own flow.
  private isSecure(req: PersonaRequest, cookies: CookieAccess): boolean {
    if (this.sameSite === 'none') return true;
    return this.secure === 'auto' ? cookies.secure || forwardedHttps(req) : this.secure;
  }

  /**
   * The name of this request's flow cookies, before the flow id. A Secure cookie gets the
   * `__Host-` prefix (Path=/, no Domain), or `__Secure-` under another path: browsers then refuse
   * the cookie from plain HTTP or a sibling subdomain, so neither can plant a nonce.
   */
  private namePrefix(secure: boolean): string {
    if (!secure) return `${this.cookieName}_`;
    return `${this.path === '/' ? '__Host-' : '__Secure-'}${this.cookieName}_`;
  }

  private cookie(secure: boolean, flowId: string, value: string, maxAgeSeconds: number): string {
    const sameSite = this.sameSite[0]?.toUpperCase() + this.sameSite.slice(1);
    return `${this.namePrefix(secure)}${flowId}=${value}; Path=${this.path}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=${sameSite}${
      secure ? '; Secure' : ''
    }`;
  }

  async store(req: PersonaRequest, appState: AppState): Promise<string> {
    const cookies = cookieAccess(req);
    const secure = this.isSecure(req, cookies);
    const now = Date.now();
    const flowId = randomBytes(12).toString('base64url');
    const nonce = randomBytes(16).toString('base64url');
    const expires = (now + this.ttlMs).toString(36);
    const returnTo = appState.returnTo ?? '';
    const signature = this.mac(this.#secrets[0] as string, flowId, expires, returnTo, nonce);

    // Evict the oldest pending flows of this browser beyond maxFlows.
    const prefix = this.namePrefix(secure);
    const pending: { flowId: string; issuedAt: number }[] = [];
    for (const [name, value] of parseCookies(cookies.header)) {
      const match = name.startsWith(prefix) ? COOKIE_VALUE.exec(value) : null;
      if (match) pending.push({ flowId: name.slice(prefix.length), issuedAt: parseInt(match[1] as string, 36) });
    }
    pending.sort((a, b) => a.issuedAt - b.issuedAt);
    for (const old of pending.slice(0, Math.max(0, pending.length - this.maxFlows + 1))) {
      cookies.append(this.cookie(secure, old.flowId, '', 0));
    }
    cookies.append(this.cookie(secure, flowId, `${now.toString(36)}.${nonce}`, Math.ceil(this.ttlMs / 1000)));
    return `${flowId}.${expires}.${Buffer.from(returnTo).toString('base64url')}.${signature}`;
  }

  async verify(req: PersonaRequest, state: string): Promise<StateVerification> {
    const parts = state.split('.');
    if (parts.length !== 4) return { valid: false, reason: 'forged' };
    const [flowId, expires, encodedReturnTo, signature] = parts as [string, string, string, string];
    if (!FLOW_ID.test(flowId) || !/^[0-9a-z]{1,12}$/.test(expires)) return { valid: false, reason: 'forged' };

    const cookies = cookieAccess(req);
    const secure = this.isSecure(req, cookies);
    const cookieValue = parseCookies(cookies.header).get(`${this.namePrefix(secure)}${flowId}`);
    if (cookieValue === undefined) return { valid: false, reason: 'unknown' };
    // One-time: whatever the outcome, this flow's cookie is gone.
    cookies.append(this.cookie(secure, flowId, '', 0));
    const match = COOKIE_VALUE.exec(cookieValue);
    if (!match) return { valid: false, reason: 'forged' };
    const nonce = match[2] as string;
    const returnTo = decodeStrictly(encodedReturnTo);
    if (returnTo === undefined) return { valid: false, reason: 'forged' };

    let authentic = false;
    for (const secret of this.#secrets) {
      if (safeEqual(this.mac(secret, flowId, expires, returnTo, nonce), signature)) authentic = true;
    }
    if (!authentic) return { valid: false, reason: 'forged' };
    if (parseInt(expires, 36) <= Date.now()) return { valid: false, reason: 'expired' };
    return { valid: true, appState: returnTo ? { returnTo } : {} };
  }
}
