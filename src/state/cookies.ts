import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * How the signed state store reaches a request's cookies and its response, whatever the
 * framework: found on Express (`req.res`), Koa (koa-passport's `req.ctx`), or attached by the app
 * with {@link attachStateResponse} (Fastify, node:http).
 */
export interface CookieAccess {
  /** The request's `Cookie` header. */
  header: string | undefined;
  /** Adds one `Set-Cookie` line to the response, keeping the ones already there. */
  append(line: string): void;
  /** True when the framework itself says the request came over HTTPS. */
  secure: boolean;
}

/** A Node response, or a framework's reply wrapping one (Fastify's `reply.raw`). */
export type ResponseLike = ServerResponse | { raw: ServerResponse };
/** A Node request, or a framework's request wrapping one (Fastify's `request.raw`). */
export type RequestLike = IncomingMessage | { raw: IncomingMessage };

// Responses attached by the app, keyed by the Node request they answer; weak, so a finished
// request takes its entry with it.
const attached = new WeakMap<IncomingMessage, ServerResponse>();

function rawOf<T extends object>(value: T | { raw: T }): T {
  return 'raw' in value && typeof value.raw === 'object' && value.raw !== null ? value.raw : (value as T);
}

/**
 * Tells signed state where the response of `request` is, for frameworks whose request does not
 * lead to it: Fastify (`app.addHook('onRequest', attachStateResponse)`, which also suits NestJS on
 * its Fastify adapter) and plain `node:http` (`attachStateResponse(req, res)` before calling
 * the store). Express and koa-passport need nothing. Accepts Node's request and response or
 * Fastify's wrappers, and calls `done` when given (a Fastify callback hook). Throws nothing.
 */
export function attachStateResponse(
  request: RequestLike,
  response: ResponseLike,
  done?: (error?: Error) => void,
): void {
  attached.set(rawOf<IncomingMessage>(request), rawOf<ServerResponse>(response));
  done?.();
}

function appendToNode(res: ServerResponse, line: string): void {
  const current = res.getHeader('set-cookie');
  const list = current === undefined ? [] : Array.isArray(current) ? current : [String(current)];
  res.setHeader('set-cookie', [...list, line]);
}

interface KoaContext {
  secure: boolean;
  append(field: string, value: string): void;
}

function isKoaContext(value: unknown): value is KoaContext {
  const ctx = value as Partial<KoaContext> | null | undefined;
  return typeof ctx === 'object' && ctx !== null && typeof ctx.append === 'function' && 'secure' in ctx;
}

function isNodeResponse(value: unknown): value is ServerResponse {
  const res = value as Partial<ServerResponse> | null | undefined;
  return typeof res?.getHeader === 'function' && typeof res.setHeader === 'function';
}

// What the request says of HTTPS by itself: Express's `req.secure`, Fastify's and Koa's
// `protocol`, a TLS socket.
function frameworkSecure(req: Record<string, unknown>, raw: IncomingMessage): boolean {
  return (
    req.secure === true ||
    req.protocol === 'https' ||
    (raw.socket as { encrypted?: boolean } | undefined)?.encrypted === true
  );
}

/**
 * The cookie access of `req` (an Express, Fastify, koa-passport or Node request), or an error
 * saying what to do when the response cannot be found.
 */
export function cookieAccess(req: object): CookieAccess {
  const fields = req as Record<string, unknown>;
  const raw = rawOf<IncomingMessage>(req as RequestLike);
  const header = raw.headers?.cookie;
  const known = frameworkSecure(fields, raw);
  const res = attached.get(raw);
  if (res) return { header, secure: known, append: (line) => appendToNode(res, line) };
  if (isKoaContext(fields.ctx)) {
    const ctx = fields.ctx;
    return { header, secure: known || ctx.secure, append: (line) => ctx.append('set-cookie', line) };
  }
  if (isNodeResponse(fields.res)) {
    const express = fields.res;
    return { header, secure: known, append: (line) => appendToNode(express, line) };
  }
  throw new Error(
    'passport-withpersona: signed state cannot find the response to set its nonce cookie on; ' +
      "on Fastify add app.addHook('onRequest', attachStateResponse), on node:http call attachStateResponse(req, res)",
  );
}

/** The first value of `X-Forwarded-Proto` is `https`: a TLS-terminating proxy is in front. */
export function forwardedHttps(req: object): boolean {
  const value = rawOf<IncomingMessage>(req as RequestLike).headers?.['x-forwarded-proto'];
  const first = (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}
