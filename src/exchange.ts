// The authorization-code exchange: one POST to Persona's token endpoint (through PersonaHttp,
// which owns the deadline, the retries and the body cap), its answer read into a token set or
// the error its status means, redacted and reported.
import { Redactor } from './errors.js';
import { reportedCall } from './persona-call.js';
import { PersonaHttp } from './persona-http.js';
import { type CodeExchangerOptions, resolveClientSettings } from './settings.js';
import type { PersonaTokenSet } from './token.js';
import { readTokenResponse } from './token-response.js';

export { DEFAULT_BASE_URL, type CodeExchangerOptions } from './settings.js';

const TOKEN_PATH = 'api/v1/oauth/token';

/** Options of one {@link CodeExchanger.exchange} call. */
export interface ExchangeOptions {
  /** Aborts the exchange (an `aborted` error); the deadline and `close()` abort it too. */
  signal?: AbortSignal | undefined;
}

/**
 * Exchanges Persona authorization codes for access tokens, without Passport: what
 * {@link PersonaStrategy} runs on its callback route, for a code that reaches you another way (an
 * API call from the data owner, a job). Made by {@link createCodeExchanger}.
 */
export interface CodeExchanger {
  /**
   * Exchanges `code` at Persona's `POST /api/v1/oauth/token` and resolves to its token set.
   * Every call makes its own request, with its own Idempotency-Key: a code presented twice is
   * refused by Persona the second time, even while the first exchange is in flight.
   *
   * @throws {PersonaOAuthError} (as a rejection) with the code describing the failure: see the
   * README's Errors table; `aborted` when `options.signal` aborts it, `closed` after `close()`.
   */
  exchange(code: string, options?: ExchangeOptions): Promise<PersonaTokenSet>;
  /**
   * Aborts every exchange in flight (each rejects with `closed`) and closes the connection pool
   * the exchanger created (not a `dispatcher` you passed in). Call it on shutdown; calling it
   * again is harmless.
   */
  close(): Promise<void>;
}

/**
 * Builds a {@link CodeExchanger} from `options`: the token endpoint under `baseURL`, the headers
 * every exchange sends (API key, `User-Agent`, `Persona-Version`, `Key-Inflection`), the deadline,
 * size cap and retry budget, and a keep-alive pool of its own unless `dispatcher` is given.
 *
 * @throws {TypeError} when `apiKey` is missing or holds characters a header cannot carry,
 * `baseURL` is not https (or loopback http) or carries credentials, or another option is out of
 * range. The message names the option and never quotes the API key.
 */
export function createCodeExchanger(options: CodeExchangerOptions): CodeExchanger {
  const settings = resolveClientSettings(options);
  // Held in this closure only: the pool holds each request in flight (the API key in its
  // headers, the code in its body), so nothing reachable by util.inspect may lead to it.
  const http = new PersonaHttp(settings, options.dispatcher);
  // The API key's echo forms, worked out once rather than on every exchange.
  const keyRedactor = new Redactor([settings.apiKey]);
  const exchange = (code: string, options?: ExchangeOptions) => {
    // Whatever Persona echoes of the key, the code or the token, in any part of an error.
    const secrets = keyRedactor.with([code]);
    return reportedCall('exchange', secrets, async (record) => {
      const form = `code=${encodeURIComponent(code)}&grant-type=authorization_code`;
      const call = { method: 'POST', path: TOKEN_PATH, form, what: "Persona's token endpoint" } as const;
      const answer = await http.send(call, record, options?.signal);
      const result = readTokenResponse(answer, secrets, settings.maxResponseBytes);
      if ('error' in result) throw result.error;
      return { value: result, requestId: result.requestId };
    });
  };
  return { exchange, close: () => http.close() };
}
