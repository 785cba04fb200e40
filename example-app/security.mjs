// Cross-cutting protections: response headers on every page, and a per-session CSRF token for
// the two state-changing forms (the owner's share form and sign-out).
import { randomBytes, timingSafeEqual } from 'node:crypto';

const CSRF_KEY = 'csrfToken';

/** Headers every response carries. The app serves no script at all, so scripts are refused outright. */
export function securityHeaders(_req, res, next) {
  res.set({
    'Content-Security-Policy':
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
  next();
}

/** Pages rendered from session data are never cached (a shared computer's back button, a proxy). */
export function noStore(_req, res, next) {
  res.set('Cache-Control', 'no-store');
  next();
}

/** The session's CSRF token, created on first use. */
export function csrfToken(req) {
  if (typeof req.session[CSRF_KEY] !== 'string') req.session[CSRF_KEY] = randomBytes(24).toString('base64url');
  return req.session[CSRF_KEY];
}

/** True when the form's `_csrf` field matches the session's token (constant-time). */
export function validCsrf(req) {
  const expected = req.session?.[CSRF_KEY];
  const given = req.body?._csrf;
  if (typeof expected !== 'string' || typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
