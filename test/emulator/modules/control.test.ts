import { afterEach, describe, expect, it } from 'vitest';
import { createClock } from '../../../src/testing/clock.js';
import { type ControlTarget, controlResponse } from '../../../src/testing/control.js';
import { send } from '../../../src/testing/delivery.js';
import { pathnameOf } from '../../../src/testing/routes.js';
import { loopbackServer } from './fixtures.js';

const calls: unknown[][] = [];
const target: ControlTarget = {
  clock: createClock(1_000_000, true),
  setFault: (...args) => calls.push(['setFault', ...args]),
  clearFaults: () => calls.push(['clearFaults']),
  resetRateLimit: () => calls.push(['resetRateLimit']),
};

let server: Awaited<ReturnType<typeof loopbackServer>> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  calls.length = 0;
});

async function control(method: string, path: string, body?: string): Promise<{ status: number; json: unknown }> {
  server ??= await loopbackServer((req, res) => {
    void controlResponse(target, req, pathnameOf(req.url ?? '/') ?? '/', 64).then((response) =>
      send({ res, record: undefined, requestId: 'req_control' }, response),
    );
  });
  const res = await fetch(`${server.url}${path}`, { method, body });
  return { status: res.status, json: await res.json() };
}

describe('controlResponse over HTTP', () => {
  it('sets a fault with a count, and clears one or all', async () => {
    const set = await control(
      'POST',
      '/__emulator/faults',
      '{"endpoint":"token","fault":{"kind":"no-headers"},"times":2}',
    );
    expect(set).toEqual({ status: 200, json: { ok: true } });
    await control('DELETE', '/__emulator/faults?endpoint=authorize');
    await control('DELETE', '/__emulator/faults');
    expect(calls).toEqual([
      ['setFault', 'token', { kind: 'no-headers' }, { times: 2 }],
      ['setFault', 'authorize', null],
      ['clearFaults'],
    ]);
  });

  it('moves the clock and answers the new time; resets the rate limit', async () => {
    expect(await control('POST', '/__emulator/clock', '{"advance":500}')).toEqual({
      status: 200,
      json: { now: 1_000_500 },
    });
    expect(await control('POST', '/__emulator/clock', '{"set":5}')).toEqual({ status: 200, json: { now: 5 } });
    expect((await control('POST', '/__emulator/rate-limit/reset')).status).toBe(200);
    expect(calls).toEqual([['resetRateLimit']]);
  });

  it.each([
    ['a body that is not JSON', '/__emulator/clock', '{'],
    ['a JSON array', '/__emulator/clock', '[]'],
    ['a body over the cap', '/__emulator/clock', `{"pad":"${'x'.repeat(100)}"}`],
    ['a clock value that is not a number', '/__emulator/clock', '{"advance":"5"}'],
    ['a negative advance', '/__emulator/clock', '{"advance":-1}'],
    ['an unknown endpoint', '/__emulator/faults', '{"endpoint":"nope"}'],
    ['an invalid fault', '/__emulator/faults', '{"endpoint":"token","fault":{"kind":"nope"}}'],
    ['a count that is not a number', '/__emulator/faults', '{"endpoint":"token","fault":null,"times":"1"}'],
  ])('answers 400 for %s', async (_name, path, body) => {
    const res = await control('POST', path, body);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ errors: [{ title: 'Bad Request' }] });
  });

  it('answers 404 for an unknown control route or method', async () => {
    expect((await control('GET', '/__emulator/clock')).status).toBe(404);
    expect((await control('POST', '/__emulator/nothing')).status).toBe(404);
  });
});
