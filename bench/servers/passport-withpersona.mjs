// Express 5 + passport + passport-withpersona: the library as a user wires it. With
// `options.agent`, it is given an undici Agent with those settings as its `dispatcher` (the pool
// settings the 50-connection scenario compares); otherwise it uses its own default. With
// `options.library` (a file URL), that build of the library is loaded instead of this checkout's
// dist/ (bench/run.mjs --variant).
import passport from 'passport';
import { Agent } from 'undici';
import { API_KEY } from '../common.mjs';
import { callbackApp } from '../apps.mjs';

export async function create({ tokenBase, options }) {
  const { PersonaStrategy } = await import(options.library ?? '../../dist/esm/index.js');
  const dispatcher = options.agent ? new Agent({ keepAliveTimeout: 10_000, ...options.agent }) : undefined;
  const strategy = new PersonaStrategy({ apiKey: API_KEY, baseURL: tokenBase, dispatcher });
  passport.use(strategy);
  return {
    handler: callbackApp('persona'),
    close() {
      strategy.close();
      dispatcher?.close();
    },
  };
}
