import { afterEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { exchange, readCode } from './helpers.js';

let emulator: PersonaEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

/** `count` requests to distinct unknown paths, one after another. */
async function knock(e: PersonaEmulator, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) await (await fetch(`${e.url}/n-${i}`)).arrayBuffer();
}

describe('a long-running emulator stays bounded', () => {
  it('keeps the last 1000 requests by default, dropping the oldest', async () => {
    emulator = await startPersonaEmulator();
    await knock(emulator, 1002);
    expect(emulator.requests).toHaveLength(1000);
    expect(emulator.requests[0]?.path).toBe('/n-2');
    expect(emulator.requests.at(-1)?.path).toBe('/n-1001');
  });

  it('keeps every request with maxRecordedRequests: Infinity', async () => {
    emulator = await startPersonaEmulator({ maxRecordedRequests: Number.POSITIVE_INFINITY });
    await knock(emulator, 1001);
    expect(emulator.requests).toHaveLength(1001);
  });

  it('keeps only the last maxRecordedRequests requests', async () => {
    emulator = await startPersonaEmulator({ maxRecordedRequests: 3 });
    for (let i = 0; i < 5; i += 1) await (await fetch(`${emulator.url}/nothing-${i}`)).arrayBuffer();
    expect(emulator.requests.map((r) => r.path)).toEqual(['/nothing-2', '/nothing-3', '/nothing-4']);
  });

  it('records nothing with maxRecordedRequests 0, and rejects a negative bound', async () => {
    emulator = await startPersonaEmulator({ maxRecordedRequests: 0 });
    await (await fetch(`${emulator.url}/nothing`)).arrayBuffer();
    expect(emulator.requests).toHaveLength(0);
    await expect(startPersonaEmulator({ maxRecordedRequests: -1 })).rejects.toThrow(RangeError);
  });

  it('forgets codes expired for longer than the idempotency lifetime', async () => {
    emulator = await startPersonaEmulator({ freezeClock: true, maxRecordedRequests: 0 });
    const stale = readCode(emulator);
    const recent = readCode(emulator);
    emulator.clock.advance(10 * 60 * 1000 + 1);
    expect((await exchange(emulator, recent)).status).toBe(422);
    emulator.clock.advance(24 * 60 * 60 * 1000);
    // The sweep runs every 1,000 requests.
    for (let i = 0; i < 1000; i += 1) await (await fetch(`${emulator.url}/x`)).arrayBuffer();
    expect((await exchange(emulator, stale)).status).toBe(404);
  });
});

describe('the clock stays where a Date can follow it', () => {
  const LATEST = 8_640_000_000_000_000;

  it.each([
    ['set far past what a Date holds', { set: 1e300 }],
    ['set before 1970', { set: -1 }],
    ['set to a string', { set: '1' }],
    ['advance past what a Date holds', { advance: 1e300 }],
    ['advance backwards', { advance: -1 }],
  ])('POST /__emulator/clock refuses %s with 400 and leaves the clock alone', async (_name, body) => {
    emulator = await startPersonaEmulator({ control: true, freezeClock: true, now: Date.UTC(2025, 0, 1) });
    const res = await fetch(`${emulator.url}/__emulator/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { errors: { details: string }[] }).errors[0];
    expect(error?.details).toMatch(/clock\.(set|advance)|must be numbers/);
    expect(emulator.clock.now()).toBe(Date.UTC(2025, 0, 1));
    // Still serving: an inquiry created now gets a valid timestamp, and a code exchanges.
    expect((await exchange(emulator, readCode(emulator))).status).toBe(201);
  });

  it('accepts the whole range a Date holds, over HTTP and on the handle', async () => {
    emulator = await startPersonaEmulator({ control: true, freezeClock: true });
    for (const set of [0, LATEST]) {
      const res = await fetch(`${emulator.url}/__emulator/clock`, { method: 'POST', body: JSON.stringify({ set }) });
      expect(await res.json()).toEqual({ now: set });
    }
    expect(() => emulator?.clock.advance(1)).toThrow(RangeError);
    expect(emulator.clock.now()).toBe(LATEST);
    expect(() => emulator?.clock.set(LATEST + 1)).toThrow(RangeError);
    await expect(startPersonaEmulator({ now: 1e300 })).rejects.toThrow(RangeError);
  });
});
