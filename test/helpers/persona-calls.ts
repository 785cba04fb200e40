import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  CALL_CHANNEL,
  createAuthorization,
  createCodeExchanger,
  createSharedObjectReader,
  EXCHANGE_CHANNEL,
  type ExchangeReport,
} from '../../src/index.js';

// The three calls to Persona this package makes, behind one shape, so that the tests of what
// every call guarantees (deadline, retries, size cap, error codes, redaction, reports) run on
// each of them: the recipient's exchange, the owner's Create Authorization, the recipient's read.

export const API_KEY = 'persona_production_Zq8Kx4Wm2Lp7Rt5Yv3Nb6Hc9Jd1Fg0S';
export const CODE = 'authz_7Hq2Wx9Lm4Kp8Rt3Vz6Nb1Cy5Jd0Fg';
export const TOKEN = 'persona_access_token_Vn5Rk2Qw8Lz3Xc7Mb4Jh9Gd6Fs1Pa0Ty';
const INQUIRY = 'inq_A1b2C3d4E5';

/** The transport options every call takes. */
export interface CallOptions {
  baseURL: string;
  timeoutMs: number;
  retries?: number;
  signal?: AbortSignal;
}

export interface PersonaCallUnderTest {
  name: 'exchange' | 'authorize' | 'read';
  method: 'GET' | 'POST';
  /** The secrets this call holds: what it must never let out. */
  secrets: string[];
  /** A success body Persona would send for this call. */
  success: unknown;
  /** What Persona's 401 and 403 mean for this call. */
  codes: { 401: string; 403: string };
  /** Makes the call once, on a client of its own closed afterwards. */
  run(options: CallOptions): Promise<unknown>;
}

export const CALLS: PersonaCallUnderTest[] = [
  {
    name: 'exchange',
    method: 'POST',
    secrets: [API_KEY, CODE, TOKEN],
    success: { 'access-token': TOKEN, 'expires-in': 3599, scope: `inquiry.read:${INQUIRY}`, 'token-type': 'bearer' },
    codes: { 401: 'invalid_api_key', 403: 'forbidden' },
    async run({ signal, ...options }) {
      const exchanger = createCodeExchanger({ apiKey: API_KEY, ...options });
      try {
        return await exchanger.exchange(CODE, { signal });
      } finally {
        await exchanger.close();
      }
    },
  },
  {
    name: 'authorize',
    method: 'POST',
    // And the code, once Persona sent one: see the test of a refused body.
    secrets: [API_KEY],
    success: { code: CODE, 'expires-in': 600 },
    codes: { 401: 'invalid_api_key', 403: 'forbidden' },
    run: (options) =>
      createAuthorization({
        apiKey: API_KEY,
        clientId: 'org_recipient1',
        scope: `inquiry.read:${INQUIRY}`,
        ...options,
      }),
  },
  {
    name: 'read',
    method: 'GET',
    secrets: [TOKEN],
    success: { data: { type: 'inquiry', id: INQUIRY, attributes: { status: 'approved' } } },
    codes: { 401: 'token_expired', 403: 'insufficient_scope' },
    async run({ signal, ...options }) {
      const reader = createSharedObjectReader(options);
      const tokens = { accessToken: TOKEN, scope: `inquiry.read:${INQUIRY}`, expiresAt: Date.now() + 3_600_000 };
      try {
        return await reader.read(tokens, 'inquiry', INQUIRY, { signal });
      } finally {
        await reader.close();
      }
    },
  },
];

/** Runs `run` while listening on both report channels; gives back the reports published. */
export async function collectCallReports<T>(run: () => Promise<T>): Promise<{ result: T; reports: ExchangeReport[] }> {
  const reports: ExchangeReport[] = [];
  const onReport = (message: unknown): void => void reports.push(message as ExchangeReport);
  subscribe(EXCHANGE_CHANNEL, onReport);
  subscribe(CALL_CHANNEL, onReport);
  try {
    return { result: await run(), reports };
  } finally {
    unsubscribe(EXCHANGE_CHANNEL, onReport);
    unsubscribe(CALL_CHANNEL, onReport);
  }
}

/** The 12-character runs of `secrets` that `text` holds. */
export function echoesIn(text: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    for (let i = 0; i + 12 <= secret.length; i += 1) {
      if (text.includes(secret.slice(i, i + 12))) found.push(secret.slice(i, i + 12));
    }
  }
  return found;
}
