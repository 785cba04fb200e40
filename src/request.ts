import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The request shape this library reads: a Node request, plus what Express and
 * express-session add when present.
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
