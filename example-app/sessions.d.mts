// Types of sessions.mjs, for the TypeScript tests.
import type { SessionData, Store } from 'express-session';

export const SIGN_IN_WINDOW_MS: number;
export const SIGNED_IN_MS: number;

export class MemorySessionStore extends Store {
  constructor(options?: { maxPending?: number; pruneEveryMs?: number });
  get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void;
  set(sid: string, session: SessionData, callback?: (err?: unknown) => void): void;
  destroy(sid: string, callback?: (err?: unknown) => void): void;
  length(callback: (err: unknown, length?: number) => void): void;
  prune(now?: number): void;
  close(): void;
}

export function createSessionStore(options?: {
  redisUrl?: string;
  prefix?: string;
  log?: (message: string, error?: unknown) => void;
}): Promise<{ store: Store; kind: 'memory' | 'redis'; close(): Promise<void> }>;
