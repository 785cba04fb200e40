import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StateStore } from './state/types.js';

/**
 * The request shape this library reads: a Node request, plus what Express and
 * express-session add when present.
 *
 * Under `@fastify/passport` and `koa-passport` the strategy and its state store receive those
 * frameworks' own request objects (a `FastifyRequest`, koa-passport's Express-like mock): they
 * carry `headers`, `query`, `body` and `session` too, but are not Node requests, so a custom
 * {@link StateStore} should read only these fields.
 */
export interface PersonaRequest extends IncomingMessage {
  query?: unknown;
  body?: unknown;
  session?: unknown;
  // `| undefined`: Express declares these as possibly undefined, which an app compiled with
  // exactOptionalPropertyTypes must be able to pass here.
  secure?: boolean | undefined;
  res?: ServerResponse | undefined;
}
