// (2) Express 5 + passport + passport-oauth2 configured for Persona.
//
// passport-oauth2 sends `grant_type=authorization_code&code=…` (plus client_id/client_secret) and
// reads only `access_token` from the answer, so it must ask Persona for snake_case keys with
// `Key-Inflection: snake`: Persona's default kebab-case answer makes it fail with "Failed to obtain
// access token". It uses node's http module through the `oauth` package, as it ships (Node 20's
// global agent keeps connections alive). It cannot see response headers, so no requestId.
import express from 'express';
import passport from 'passport';
import OAuth2Strategy from 'passport-oauth2';
import { API_KEY, TOKEN_PATH, buildUser } from '../common.mjs';

export function create({ tokenBase }) {
  passport.use(
    'persona-oauth2',
    new OAuth2Strategy(
      {
        authorizationURL: `${tokenBase}/oauth/authorize`,
        tokenURL: `${tokenBase}${TOKEN_PATH}`,
        clientID: 'org_bench_recipient',
        clientSecret: '',
        customHeaders: { Authorization: `Bearer ${API_KEY}`, 'Key-Inflection': 'snake' },
        state: false,
        skipUserProfile: true,
      },
      (accessToken, _refreshToken, params, _profile, done) => {
        let user;
        try {
          user = buildUser(accessToken, params.token_type, params.expires_in, params.scope, undefined);
        } catch (err) {
          return done(err);
        }
        done(null, user);
      },
    ),
  );
  const app = express();
  app.get('/callback', passport.authenticate('persona-oauth2', { session: false }), (req, res) => {
    res.json(req.user);
  });
  return { handler: app, close() {} };
}
