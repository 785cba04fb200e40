// (1) Express 5 + passport + passport-withpersona: the library as a user wires it.
import express from 'express';
import passport from 'passport';
import { PersonaStrategy } from '../../dist/esm/index.js';
import { API_KEY } from '../common.mjs';

export function create({ tokenBase }) {
  passport.use(new PersonaStrategy({ apiKey: API_KEY, baseURL: tokenBase }));
  const app = express();
  app.get('/callback', passport.authenticate('persona', { session: false }), (req, res) => {
    res.json(req.user);
  });
  return { handler: app, close() {} };
}
