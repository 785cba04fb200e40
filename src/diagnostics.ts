import { channel } from 'node:diagnostics_channel';
import type { PersonaOAuthErrorCode } from './errors.js';

/** What is published (and logged) once per code exchange. Never carries a secret. */
export interface ExchangeReport {
  outcome: 'success' | 'error';
  /** The error code, when the exchange failed. */
  code?: PersonaOAuthErrorCode;
  /** Persona's HTTP status of the last attempt, when a response arrived. */
  personaStatus: number | undefined;
  requestId: string | undefined;
  durationMs: number;
  /** HTTP attempts made (1 unless a connection failure or a 429 was retried). */
  attempts: number;
  /**
   * Persona's `RateLimit-Remaining` on the last response, when sent: the requests left in the
   * current window of the environment's (or the key's) rate limit. Alert on it running low:
   * every callback that reaches the exchange spends one, whoever sent it.
   */
  rateLimitRemaining?: number | undefined;
}

/**
 * The `diagnostics_channel` name on which one {@link ExchangeReport} is published per exchange,
 * for APM tools: `diagnostics_channel.subscribe(EXCHANGE_CHANNEL, (report) => …)`.
 */
export const EXCHANGE_CHANNEL = 'passport-withpersona:exchange';

/** What is published (and logged) once per Create Authorization or read of a shared object. */
export interface PersonaCallReport extends ExchangeReport {
  /** Which call: `authorize` ({@link createAuthorization}) or `read` (a {@link SharedObjectReader}). */
  call: 'authorize' | 'read';
}

/**
 * The `diagnostics_channel` name on which one {@link PersonaCallReport} is published per Create
 * Authorization and per read of a shared object (the exchange keeps {@link EXCHANGE_CHANNEL}).
 */
export const CALL_CHANNEL = 'passport-withpersona:call';

const exchangeChannel = channel(EXCHANGE_CHANNEL);
const callChannel = channel(CALL_CHANNEL);
const NAMESPACE = 'passport-withpersona';

// Follows the `debug` package's convention (`DEBUG=passport-withpersona`, `DEBUG=*`,
// `DEBUG=passport-*,-other`) without depending on it, plus Node's own `NODE_DEBUG`. Read on every
// exchange, so a change to either variable takes effect at once; parsed only when one changed.
let readDebug: string | undefined;
let readNodeDebug: string | undefined;
let logging = false;

function logEnabled(): boolean {
  const { DEBUG, NODE_DEBUG } = process.env;
  if (DEBUG !== readDebug || NODE_DEBUG !== readNodeDebug) {
    readDebug = DEBUG;
    readNodeDebug = NODE_DEBUG;
    logging = matches(DEBUG ?? '') || matches(NODE_DEBUG ?? '');
  }
  return logging;
}

function matches(patterns: string): boolean {
  let enabled = false;
  for (const raw of patterns.split(/[\s,]+/)) {
    if (!raw) continue;
    const negated = raw.startsWith('-');
    const pattern = negated ? raw.slice(1) : raw;
    const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
    if (re.test(NAMESPACE)) {
      if (negated) return false;
      enabled = true;
    }
  }
  return enabled;
}

/** Publishes one exchange report and, when enabled, writes one log line to stderr. */
export function reportExchange(report: ExchangeReport): void {
  if (exchangeChannel.hasSubscribers) exchangeChannel.publish(report);
  writeLine('exchange', report);
}

/** Publishes one Create Authorization or read report and, when enabled, writes its log line. */
export function reportCall(report: PersonaCallReport): void {
  if (callChannel.hasSubscribers) callChannel.publish(report);
  writeLine(report.call, report);
}

function writeLine(call: string, report: ExchangeReport): void {
  if (!logEnabled()) return;
  const parts = [
    `${NAMESPACE} ${call} ${report.outcome}`,
    report.code ? `code=${report.code}` : '',
    `persona_status=${report.personaStatus ?? '-'}`,
    `duration_ms=${report.durationMs.toFixed(1)}`,
    `attempts=${report.attempts}`,
    `request_id=${report.requestId ?? '-'}`,
    `ratelimit_remaining=${report.rateLimitRemaining ?? '-'}`,
  ];
  process.stderr.write(`${parts.filter(Boolean).join(' ')}\n`);
}
