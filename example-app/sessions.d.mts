// Types of sessions.mjs, for the TypeScript tests.
import type { Store } from 'express-session';

export function createSessionStore(options?: {
  redisUrl?: string;
  prefix?: string;
  log?: (message: string, error?: unknown) => void;
}): Promise<{ store: Store | undefined; kind: 'memory' | 'redis'; close(): Promise<void> }>;
