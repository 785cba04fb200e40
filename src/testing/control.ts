import type { IncomingMessage } from 'node:http';
import { errorResponse, jsonResponse, parseJsonObject, readBody, type EmulatorResponse } from './http.js';
import type { EmulatorState, Route } from './pipeline.js';

type Input = Record<string, unknown>;

const ok = (): EmulatorResponse => jsonResponse(200, { ok: true });

/** A control request's body as a JSON object (empty, or not a POST: `{}`); throws saying why not. */
async function readInput(req: IncomingMessage, maxBodyBytes: number): Promise<Input> {
  const read = await readBody(req, maxBodyBytes, maxBodyBytes);
  if ((req.method ?? 'GET') !== 'POST') return {};
  if (read.tooLarge) throw new Error('The request body is too large');
  const input = parseJsonObject(read.bytes.toString('utf8'));
  if (typeof input === 'string') throw new Error(input);
  return input;
}

/**
 * Answers a request under `/__emulator/` (only when the emulator runs with `control: true`):
 * the handle's faults, clock and rate-limit reset, for tests in another process. A thrown
 * validation error becomes a 400 saying what is wrong.
 */
export async function controlResponse(
  state: EmulatorState,
  req: IncomingMessage,
  { pathname, query }: Route,
): Promise<EmulatorResponse> {
  const { faults, clock } = state;
  const routes: Record<string, (input: Input) => EmulatorResponse> = {
    'POST /__emulator/faults': (input) => {
      faults.set(input.endpoint, input.fault ?? null, input.times);
      return ok();
    },
    'DELETE /__emulator/faults': () => {
      const endpoint = query.get('endpoint');
      if (endpoint === null) faults.clear();
      else faults.set(endpoint, null);
      return ok();
    },
    'POST /__emulator/clock': ({ advance, set }) => {
      if (typeof advance === 'number') clock.advance(advance);
      else if (typeof set === 'number') clock.set(set);
      else if (advance !== undefined || set !== undefined) throw new Error('advance and set must be numbers');
      return jsonResponse(200, { now: clock.now() });
    },
    'POST /__emulator/rate-limit/reset': () => {
      state.rateLimiter.reset();
      return ok();
    },
  };
  const method = req.method ?? 'GET';
  try {
    const input = await readInput(req, state.settings.maxBodyBytes);
    const route = routes[`${method} ${pathname}`];
    if (route) return route(input);
  } catch (error) {
    return errorResponse(400, 'Bad Request', error instanceof Error ? error.message : String(error));
  }
  return errorResponse(404, 'Not Found', `No control route ${method} ${pathname}`);
}
