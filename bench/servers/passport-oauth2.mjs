// Express 5 + passport + passport-oauth2 configured for Persona (see oauth2Options in common.mjs:
// it must ask for snake_case). It uses node's https/http module through the `oauth` package, as it
// ships: Node 20's global agent keeps connections alive for 5 s. It cannot see response headers,
// so no requestId.
import passport from 'passport';
import OAuth2Strategy from 'passport-oauth2';
import { oauth2Options, oauth2Verify } from '../common.mjs';
import { callbackApp } from '../apps.mjs';

export function create({ tokenBase }) {
  const options = oauth2Options(tokenBase, { authorizationURL: `${tokenBase}/oauth/authorize`, state: false });
  passport.use('persona-oauth2', new OAuth2Strategy(options, oauth2Verify));
  return { handler: callbackApp('persona-oauth2'), close() {} };
}
