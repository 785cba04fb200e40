import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { captureDebugLog } from './diagnostics.js';
import { startTokenServer, type TokenServer } from './token-server.js';

/** How the server answers the next request. */
export type Answer = (res: ServerResponse) => void;

/** A token server the tests of one file steer, with the library's DEBUG lines captured. */
export interface AnsweringServer {
  /** What the next requests get (default: no answer). */
  answer: Answer;
  readonly url: string;
  /** The DEBUG lines written since the test began. */
  readonly logLines: string[];
}

/** An answer of `status` with `body` as JSON. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
}

/**
 * One answering server for the whole test file, and the DEBUG log captured while it runs; the log
 * is emptied after each test.
 */
export function useAnsweringServer(): AnsweringServer {
  let server: TokenServer | undefined;
  let restoreLog: () => void = () => {};
  const persona: AnsweringServer = {
    answer: () => {},
    get url() {
      if (!server) throw new Error('the answering server is not started yet');
      return server.url;
    },
    logLines: [],
  };
  beforeAll(async () => {
    server = await startTokenServer((_req, res) => persona.answer(res));
    restoreLog = captureDebugLog(persona.logLines);
  });
  afterAll(async () => {
    restoreLog();
    await server?.close();
  });
  afterEach(() => {
    persona.logLines.length = 0;
  });
  return persona;
}
