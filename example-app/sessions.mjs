// Where sessions live: express-session's memory store by default, or Redis through connect-redis
// when a Redis URL is given (several instances sharing one SESSION_SECRET then share sessions,
// and with them the pending sign-in states and the signed-in token sets).
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';

/**
 * Resolves to `{ store, kind, close }`: `store` is undefined for the memory store (express-session's
 * default), a connected RedisStore otherwise. `close()` disconnects from Redis.
 */
export async function createSessionStore({ redisUrl, prefix = 'persona-sample:sess:', log = () => {} } = {}) {
  if (!redisUrl) return { store: undefined, kind: 'memory', close: async () => {} };
  const client = createClient({ url: redisUrl });
  // Without a listener a dropped connection would crash the process; the client reconnects itself.
  client.on('error', (error) => log('redis: connection error', error));
  await client.connect();
  const store = new RedisStore({ client, prefix });
  let closing;
  return {
    store,
    kind: 'redis',
    close: () => {
      closing ??= client.isOpen ? client.close() : Promise.resolve();
      return closing;
    },
  };
}
