import type { PersonaTokenSet } from '../../src/index.js';
import type { PersonaRequest } from '../../src/request.js';
import type { CallbackFlow } from '../../src/strategy.js';

/** A callback flow whose exchanger records the codes it is given. */
export type RecordingFlow = CallbackFlow<unknown> & { exchanged: string[] };

/** A GET of the callback route with `query` as Express would have parsed it. */
export function callbackRequest(query: Record<string, unknown>): PersonaRequest {
  return { method: 'GET', url: '/callback', query, headers: {} } as unknown as PersonaRequest;
}

/**
 * `flowWith(overrides, answer)`: a flow with no state store, URLs or verify unless `overrides`
 * sets them, whose exchanger records each code and answers with `answer` (by default
 * `defaultAnswer`).
 */
export function flowsAnswering(defaultAnswer: (code: string) => Promise<PersonaTokenSet>) {
  return (overrides: Partial<CallbackFlow<unknown>> = {}, answer = defaultAnswer): RecordingFlow => {
    const exchanged: string[] = [];
    return {
      exchanger: {
        exchange: (code) => {
          exchanged.push(code);
          return answer(code);
        },
      },
      stateStore: undefined,
      authorizationURL: undefined,
      callbackURL: undefined,
      verify: undefined,
      passReqToCallback: false,
      inFlight: new Map(),
      ...overrides,
      exchanged,
    };
  };
}
