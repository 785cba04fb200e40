import type { IncomingMessage } from 'node:http';
import { ENDPOINT_NAMES, isEmulatorEndpoint, validateFault } from './faults.js';
import { errorResponse, isObject, jsonResponse, readBody, type EmulatorResponse } from './http.js';
import type { EmulatorClock, EmulatorEndpoint, EmulatorFault } from './types.js';

/** What the control endpoints drive: the handle's fault, clock and rate-limit methods. */
export interface ControlTarget {
  clock: EmulatorClock;
  setFault(endpoint: EmulatorEndpoint, fault: EmulatorFault | null, options?: { times?: number }): void;
  clearFaults(): void;
  resetRateLimit(): void;
}

type Input = Record<string, unknown>;

const ok = (): EmulatorResponse => jsonResponse(200, { ok: true });
const bad = (details: string): EmulatorResponse => errorResponse(400, { title: 'Bad Request', details });

type ReadInput = { ok: true; input: Input } | { ok: false; refusal: EmulatorResponse };

/** A POST body as a JSON object (empty → `{}`), or the 400 saying why not. */
async function readInput(req: IncomingMessage, maxBodyBytes: number): Promise<ReadInput> {
  const read = await readBody(req, maxBodyBytes, maxBodyBytes);
  if ((req.method ?? 'GET') !== 'POST') return { ok: true, input: {} };
  if (read.tooLarge) return { ok: false, refusal: bad('body too large') };
  const text = read.bytes.toString('utf8');
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return { ok: false, refusal: bad('the body is not valid JSON') };
  }
  if (!isObject(value)) return { ok: false, refusal: bad('the body must be a JSON object') };
  return { ok: true, input: value };
}

function postFault(target: ControlTarget, input: Input): EmulatorResponse {
  if (!isEmulatorEndpoint(input.endpoint)) return bad(`endpoint must be ${ENDPOINT_NAMES}`);
  const fault = input.fault === null || input.fault === undefined ? null : validateFault(input.fault);
  if (input.times !== undefined && typeof input.times !== 'number') return bad('times must be a number');
  target.setFault(input.endpoint, fault, input.times === undefined ? {} : { times: input.times });
  return ok();
}

function deleteFaults(target: ControlTarget, url: string): EmulatorResponse {
  const endpoint = new URL(url, 'http://emulator.invalid').searchParams.get('endpoint');
  if (endpoint === null) target.clearFaults();
  else if (isEmulatorEndpoint(endpoint)) target.setFault(endpoint, null);
  else return bad(`endpoint must be ${ENDPOINT_NAMES}`);
  return ok();
}

function postClock(target: ControlTarget, input: Input): EmulatorResponse {
  if (typeof input.advance === 'number') target.clock.advance(input.advance);
  else if (typeof input.set === 'number') target.clock.set(input.set);
  else if (input.advance !== undefined || input.set !== undefined) return bad('advance and set must be numbers');
  return jsonResponse(200, { now: target.clock.now() });
}

/**
 * Answers a request under `/__emulator/` (only when the emulator runs with `control: true`):
 * faults, clock and rate-limit reset, driven over HTTP by tests in another process. A thrown
 * validation error becomes a 400 saying what is wrong.
 */
export async function controlResponse(
  target: ControlTarget,
  req: IncomingMessage,
  pathname: string,
  maxBodyBytes: number,
): Promise<EmulatorResponse> {
  const read = await readInput(req, maxBodyBytes);
  if (!read.ok) return read.refusal;
  const { input } = read;
  const method = req.method ?? 'GET';
  try {
    if (pathname === '/__emulator/faults' && method === 'POST') return postFault(target, input);
    if (pathname === '/__emulator/faults' && method === 'DELETE') return deleteFaults(target, req.url ?? '/');
    if (pathname === '/__emulator/clock' && method === 'POST') return postClock(target, input);
    if (pathname === '/__emulator/rate-limit/reset' && method === 'POST') {
      target.resetRateLimit();
      return ok();
    }
  } catch (error) {
    return bad(error instanceof Error ? error.message : String(error));
  }
  return errorResponse(404, { title: 'Not Found', details: `No control route ${method} ${pathname}` });
}
