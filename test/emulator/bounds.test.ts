import { afterEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';

let emulator: PersonaEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function token(e: PersonaEmulator, code: string): Promise<number> {
  const res = await fetch(`${e.url}/api/v1/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${e.recipient.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code, 'grant-type': 'authorization_code' }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('a long-running emulator stays bounded', () => {
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
    const id = emulator.owner.inquiries[0]?.id;
    const stale = emulator.createAuthorization({ scope: `inquiry.read:${id}` }).code;
    const recent = emulator.createAuthorization({ scope: `inquiry.read:${id}` }).code;
    emulator.clock.advance(10 * 60 * 1000 + 1);
    expect(await token(emulator, recent)).toBe(422);
    emulator.clock.advance(24 * 60 * 60 * 1000);
    // The sweep runs every 1,000 requests.
    for (let i = 0; i < 1000; i += 1) await (await fetch(`${emulator.url}/x`)).arrayBuffer();
    expect(await token(emulator, stale)).toBe(404);
  });
});
