// What an exchange's error keeps of its cause, over real HTTP: a cause that echoes no secret is
// kept whole (its class, stack and fields, for the developer who logs it), a failure that had no
// cause gets none, and a cause is never enumerable.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCodeExchanger, type PersonaOAuthError } from '../../src/index.js';
import { startTokenServer } from '../helpers/token-server.js';

const API_KEY = 'persona_sandbox_error_causes_key_8d0c';
const CODE = 'authcode_error_causes_1f6a';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function failure(baseURL: string): Promise<PersonaOAuthError> {
  const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL, retries: 0 });
  try {
    return (await exchanger.exchange(CODE).then(
      () => expect.fail('the exchange succeeded'),
      (error: unknown) => error,
    )) as PersonaOAuthError;
  } finally {
    await exchanger.close();
  }
}

describe("an exchange error's cause", () => {
  it('is the connection error itself when it echoes no secret, kept off enumerable output', async () => {
    const port = await closedPort();
    const error = await failure(`http://127.0.0.1:${port}`);
    expect(error.code).toBe('network');
    const cause = error.cause as NodeJS.ErrnoException & { port?: number };
    // The original object, not a summary of it: the fields a summary would drop are there.
    expect(cause).toBeInstanceOf(Error);
    expect(cause).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', port });
    expect(cause.stack).toContain('ECONNREFUSED');
    expect(Object.getOwnPropertyDescriptor(error, 'cause')?.enumerable).toBe(false);
    expect(Object.keys(error)).not.toContain('cause');
    expect(JSON.parse(JSON.stringify(error))).not.toHaveProperty('cause');
  });

  it('is absent when the failure had none (a refusal of the code)', async () => {
    const server = await startTokenServer((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ title: 'Invalid authorization code', source: { pointer: '/code' } }] }));
    });
    try {
      const error = await failure(server.url);
      expect(error.code).toBe('invalid_grant');
      expect(error.cause).toBeUndefined();
      expect(Object.hasOwn(error, 'cause')).toBe(false);
    } finally {
      await server.close();
    }
  });
});
