import { describe, expect, it } from 'vitest';
import { createCodeExchanger, PersonaStrategy } from '../../src/index.js';

// A bad integer option is refused with a TypeError that names the option and its lower bound,
// so the fix is in the message.

const BASE = { apiKey: 'persona_sandbox_option_messages_key', baseURL: 'http://127.0.0.1:9' };

describe('integer options: the TypeError names the option and its bounds', () => {
  it.each([
    ['timeoutMs', 0, 'from 1 to 600000'],
    ['timeoutMs', 2.5, 'from 1 to 600000'],
    ['timeoutMs', 600_001, 'from 1 to 600000'],
    ['maxResponseBytes', -1, '≥ 1'],
    ['retries', -1, '≥ 0'],
    ['retries', '1', '≥ 0'],
  ] as const)('%s: %j', (name, value, range) => {
    expect(() => createCodeExchanger({ ...BASE, [name]: value as never })).toThrow(
      new TypeError(`passport-withpersona: ${name} must be an integer ${range}`),
    );
  });

  it.each([
    ['ttlSeconds', 0],
    ['maxFlows', Number.NaN],
  ] as const)('signed state %s: %j', (name, value) => {
    const signed = { secrets: ['s'.repeat(32)], [name]: value };
    expect(() => new PersonaStrategy({ ...BASE, state: { signed } })).toThrow(
      new TypeError(`passport-withpersona: ${name} must be an integer ≥ 1`),
    );
  });

  it('takes the lower bound itself: retries 0, timeoutMs 1', async () => {
    const exchanger = createCodeExchanger({ ...BASE, retries: 0, timeoutMs: 1 });
    await exchanger.close();
  });
});
