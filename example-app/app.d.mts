// Types of app.mjs, for the TypeScript tests (the sample itself is plain JavaScript).
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Store } from 'express-session';

/** An inquiry as the simulated owner lists it on its share page. */
export interface OwnerInquiry {
  id: string;
  status: string;
  nameFirst: string;
  nameMiddle?: string | null;
  nameLast: string;
  createdAt: string;
}

/** A verification as the simulated owner lists it on its share page. */
export interface OwnerVerification {
  id: string;
  type: string;
  status: string;
  inquiryId: string | null;
}

export interface SampleAppOptions {
  publicURL: string;
  sessionSecret: string | string[];
  sessionStore?: Store;
  persona: { apiKey: string; baseURL?: string; organizationName?: string; label?: string; timeoutMs?: number };
  owner?: {
    apiKey: string;
    baseURL: string;
    name?: string;
    recipientOrgId: string;
    inquiries: () => readonly OwnerInquiry[];
    verifications?: () => readonly OwnerVerification[];
  };
  authorizationURL?: string;
  secureCookies?: boolean;
  log?: (message: string, error?: unknown) => void;
}

export interface SampleApp {
  app: Express;
  strategy: { name: string; close(): Promise<void> };
  callbackURL: string;
  close(): Promise<void>;
}

export interface RunningSampleApp extends SampleApp {
  url: string;
  server: Server;
}

export const SESSION_COOKIE: string;
export function createApp(options: SampleAppOptions): SampleApp;
export function startApp(
  options: Omit<SampleAppOptions, 'publicURL'> & { publicURL?: string; host?: string; port?: number },
): Promise<RunningSampleApp>;
