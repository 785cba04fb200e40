import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deliver, send } from '../../../src/testing/delivery.js';
import { jsonResponse } from '../../../src/testing/http.js';
import { Timers } from '../../../src/testing/timers.js';
import type { EmulatedRequest, EmulatorFault } from '../../../src/testing/types.js';
import { loopbackServer } from './fixtures.js';

const answer = jsonResponse(201, { 'access-token': 'persona_access_token_x', 'token-type': 'bearer' });

let server: Awaited<ReturnType<typeof loopbackServer>> | undefined;
const timers = new Timers();
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function record(): EmulatedRequest {
  return {
    endpoint: 'token',
    method: 'POST',
    path: '/',
    headers: {},
    body: '',
    status: undefined,
    requestId: 'req_1',
    receivedAt: 0,
  };
}

async function serve(fault: EmulatorFault | undefined, log = record()): Promise<string> {
  server = await loopbackServer((req, res) =>
    deliver(req, { res, record: log, requestId: 'req_test' }, answer, fault, timers),
  );
  return server.url;
}

describe('send', () => {
  it('writes the status, the Request-Id and Content-Length, and notes the status on the record', async () => {
    const log = record();
    server = await loopbackServer((_req, res) => send({ res, record: log, requestId: 'req_abc' }, answer));
    const res = await fetch(server.url);
    expect([res.status, res.headers.get('request-id'), res.headers.get('content-length')]).toEqual([
      201,
      'req_abc',
      String(answer.body.length),
    ]);
    expect(await res.text()).toBe(answer.body);
    expect(log.status).toBe(201);
  });
});

describe('deliver', () => {
  it('sends the answer untouched without a fault', async () => {
    const res = await fetch(await serve(undefined));
    expect(await res.json()).toEqual(JSON.parse(answer.body));
  });

  it('malformed: 201 JSON that does not parse', async () => {
    const res = await fetch(await serve({ kind: 'malformed' }));
    expect(res.status).toBe(201);
    await expect(res.json()).rejects.toThrow(SyntaxError);
  });

  it('oversized: exactly the given bytes, with or without Content-Length', async () => {
    const sized = await fetch(await serve({ kind: 'oversized', bytes: 200_000 }));
    expect(sized.headers.get('content-length')).toBe('200000');
    expect((await sized.arrayBuffer()).byteLength).toBe(200_000);
    await server?.close();
    const chunked = await fetch(await serve({ kind: 'oversized', bytes: 10, chunked: true }));
    expect(chunked.headers.get('content-length')).toBeNull();
    expect((await chunked.arrayBuffer()).byteLength).toBe(10);
  });

  it('drip: the whole answer, in pieces over time', async () => {
    const started = performance.now();
    const res = await fetch(await serve({ kind: 'drip', intervalMs: 10, chunks: 3 }));
    expect(await res.text()).toBe(answer.body);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('no-headers: nothing is sent and the record keeps no status', async () => {
    const log = record();
    const url = await serve({ kind: 'no-headers' }, log);
    await expect(fetch(url, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(log.status).toBeUndefined();
  });

  it('reset before the headers: the connection is reset with nothing sent', async () => {
    const url = new URL(await serve({ kind: 'reset' }));
    const received = await new Promise<{ data: string; error: string | undefined }>((resolve) => {
      let data = '';
      const socket = connect(Number(url.port), '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('data', (chunk) => {
        data += chunk.toString();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve({ data, error: error.code }));
      socket.on('close', () => resolve({ data, error: undefined }));
    });
    expect(received).toEqual({ data: '', error: 'ECONNRESET' });
  });

  it('reset after the headers: the status line and part of the body, then a reset', async () => {
    const url = await serve({ kind: 'reset', when: 'after-headers' });
    const res = await fetch(url);
    expect(res.status).toBe(201);
    await expect(res.text()).rejects.toThrow();
  });
});
