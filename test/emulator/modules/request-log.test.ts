import { describe, expect, it } from 'vitest';
import { recordRequest } from '../../../src/testing/request-log.js';
import type { EmulatedRequest } from '../../../src/testing/types.js';

function request(path: string): EmulatedRequest {
  return {
    endpoint: 'other',
    method: 'GET',
    path,
    headers: {},
    body: '',
    status: undefined,
    requestId: 'req_1',
    receivedAt: 0,
  };
}

describe('recordRequest', () => {
  it('keeps the newest `cap` requests, in order, in the same array', () => {
    const log: EmulatedRequest[] = [];
    for (const path of ['/a', '/b', '/c', '/d']) recordRequest(log, request(path), 2);
    expect(log.map((r) => r.path)).toEqual(['/c', '/d']);
  });

  it('keeps none with a cap of 0, and all with an infinite cap', () => {
    const none: EmulatedRequest[] = [];
    recordRequest(none, request('/a'), 0);
    expect(none).toEqual([]);
    const all: EmulatedRequest[] = [];
    for (let i = 0; i < 50; i += 1) recordRequest(all, request(`/${i}`), Number.POSITIVE_INFINITY);
    expect(all).toHaveLength(50);
  });
});
