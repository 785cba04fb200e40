// What the exchange, Create Authorization and a read of a shared object share around
// PersonaHttp.send(): one report per call on its diagnostics channel, and every failure redacted
// of the call's secrets.
import { type ExchangeReport, reportCall, reportExchange } from './diagnostics.js';
import { PersonaOAuthError, type Redactor, redactError } from './errors.js';
import type { CallRecord } from './persona-http.js';
import { readRateLimitRemaining } from './headers.js';

/** What a call's body resolves to: its result, and the Request-Id to report with it. */
export interface Reported<T> {
  value: T;
  requestId: string | undefined;
}

/**
 * Runs `run` with a fresh {@link CallRecord}, reports the outcome as `call` (the exchange on
 * EXCHANGE_CHANNEL, the others on CALL_CHANNEL), and turns any failure into a
 * {@link PersonaOAuthError} redacted of `secrets` (read when the failure is caught, so a secret
 * the answer carried, such as the code it issued, is redacted too).
 */
export async function reportedCall<T>(
  call: 'exchange' | 'authorize' | 'read',
  secrets: readonly string[] | Redactor,
  run: (record: CallRecord) => Promise<Reported<T>>,
): Promise<T> {
  const record: CallRecord = { attempts: 0 };
  const startedAt = performance.now();
  const report = (failure: PersonaOAuthError | undefined, requestId: string | undefined) => {
    const report: ExchangeReport = {
      outcome: failure ? 'error' : 'success',
      ...(failure ? { code: failure.code } : {}),
      personaStatus: record.last?.status,
      requestId,
      durationMs: performance.now() - startedAt,
      attempts: record.attempts,
      rateLimitRemaining: record.last ? readRateLimitRemaining(record.last.headers) : undefined,
    };
    if (call === 'exchange') reportExchange(report);
    else reportCall({ call, ...report });
  };
  try {
    const { value, requestId } = await run(record);
    report(undefined, requestId);
    return value;
  } catch (error) {
    const failure = redactError(
      error instanceof PersonaOAuthError
        ? error
        : new PersonaOAuthError('network', `The call to Persona (${call}) failed unexpectedly`, { cause: error }),
      secrets,
    );
    report(failure, failure.requestId);
    throw failure;
  }
}
