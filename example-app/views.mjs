// Every page of the sample. Pure functions from data to HTML: no request, no I/O. Each page says
// which side of the exchange it belongs to: the recipient (Org B, the library's user) or the
// data owner (Org A, simulated with the emulator's owner key).
import { html } from './html.mjs';

/**
 * What every page knows of the app: the two organisations' names, where Persona is, and
 * whether a sign-in can start.
 * @typedef {object} Site
 * @property {string} recipientName
 * @property {string} [ownerName]
 * @property {string} personaLabel
 * @property {boolean} canStart
 */

/** Answers `status` with a rendered page as HTML. */
export function sendPage(res, status, view) {
  res.status(status).type('html').send(String(view));
}

/** "59 min 12 s", "1 h 0 min", "8 s". */
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${seconds} s`;
  return `${seconds} s`;
}

/** The access token as it may be shown: never whole. */
export function maskToken(token) {
  const text = String(token ?? '');
  return text.length <= 24 ? '…' : `${text.slice(0, 24)}…`;
}

function isoTime(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** "18 Nov 2026, 17:49 UTC": for people; the ISO form goes in <time datetime>. */
export function formatTime(value) {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) return String(value ?? '');
  const text = new Date(ms).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  return `${text} UTC`;
}

function timeElement(value) {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) return value;
  return html`<time datetime="${isoTime(ms)}">${formatTime(ms)}</time>`;
}

const SIDES = {
  recipient: { label: 'Recipient (Org B)', note: 'signs in with passport-withpersona' },
  owner: { label: 'Data owner (Org A)', note: 'shares inquiries through Persona' },
};

function sideBand(side, site) {
  if (!SIDES[side]) return '';
  const org = side === 'owner' ? site.ownerName : site.recipientName;
  return html`<div class="side-band side-${side}">
  <div class="wrap">
    <span class="side-label">${SIDES[side].label}</span>
    <span class="side-org">${org}</span>
    <span class="side-note">${SIDES[side].note}</span>
  </div>
</div>`;
}

/**
 * The page frame. `side` is 'recipient', 'owner' or undefined (neutral pages such as 404).
 * `site` carries the organisation names and where Persona is.
 */
export function layout({ title, side, site, body }) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Persona OAuth sample</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/style.css">
</head>
<body class="${side ? `page-${side}` : 'page-neutral'}">
<a class="skip" href="#main">Skip to content</a>
<header class="site">
  <div class="wrap">
    <a class="brand" href="/">Persona OAuth sample</a>
    <span class="tagline">passport-withpersona · two organisations, one app</span>
  </div>
</header>
${sideBand(side, site)}
<main id="main" class="wrap">
${body}
</main>
<footer class="site">
  <div class="wrap">
    <p>Persona API: ${site.personaLabel}. This sample keeps the recipient's token in its session and never shows it whole.</p>
  </div>
</footer>
</body>
</html>
`;
}

function signOutForm(csrfToken) {
  return html`<form class="inline" method="post" action="/logout">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <button type="submit" class="button secondary">Sign out</button>
</form>`;
}

function connectButton(site, label = 'Connect with Persona') {
  if (!site.canStart) {
    return html`<p class="note">Starting a flow needs the data owner's share page: set
<code>PERSONA_AUTHORIZATION_URL</code>. Codes sent to <code>/auth/persona/callback</code> still work.</p>`;
  }
  return html`<a class="button" href="/auth/persona">${label}</a>`;
}

// The objects this sample opens, by the permission that reads them: the page under which each
// kind lives, and what to call it.
const OPENABLE = {
  'inquiry.read': { path: 'inquiries', noun: 'inquiry' },
  'verification.read': { path: 'verifications', noun: 'verification' },
};

/** The shared objects this sample can open: `{ id, href, noun }` per `inquiry.read` or `verification.read` scope. */
function sharedObjects(user) {
  return (user?.scopes ?? [])
    .filter((s) => Object.hasOwn(OPENABLE, s.permission))
    .map((s) => ({
      id: s.objectId,
      href: `/${OPENABLE[s.permission].path}/${encodeURIComponent(s.objectId)}`,
      noun: OPENABLE[s.permission].noun,
    }));
}

function objectLink(scope) {
  const [object] = sharedObjects({ scopes: [scope] });
  if (!object) return html`<span class="fine">not shown by this sample</span>`;
  return html`<a href="${object.href}">View ${object.noun} <span class="visually-hidden">${object.id}</span></a>`;
}

/** "one inquiry", "2 inquiries", "3 objects": what is shared, in words. */
function describeShared(objects) {
  const nouns = new Set(objects.map((o) => o.noun));
  const [noun] = nouns;
  const plural = { inquiry: 'inquiries', verification: 'verifications' };
  if (nouns.size !== 1 || !noun) return `${objects.length} objects`;
  return objects.length === 1 ? `one ${noun}` : `${objects.length} ${plural[noun]}`;
}

/** GET / — what this is and the current state. */
export function homePage({ site, user, now, csrfToken }) {
  const expired = user && typeof user.expiresAt === 'number' && user.expiresAt <= now;
  let status;
  if (!user) {
    status = html`<p class="status status-out"><strong>Not signed in.</strong> Nothing is shared with ${site.recipientName} yet.</p>
<p>${connectButton(site)}</p>`;
  } else if (expired) {
    status = html`<p class="status status-warn"><strong>The access has expired.</strong> Persona access tokens last one hour and
cannot be refreshed: ask the data owner for a new code.</p>
<div class="actions">${connectButton(site, 'Reconnect')} ${signOutForm(csrfToken)}</div>`;
  } else {
    const objects = sharedObjects(user);
    status = html`<p class="status status-in"><strong>Signed in.</strong> ${describeShared(objects)} ${objects.length === 1 ? 'is' : 'are'}
shared with ${site.recipientName} for another ${formatDuration(user.expiresAt - now)}.</p>
<ul class="plain">${objects.map((o) => html`<li><a href="${o.href}"><code>${o.id}</code></a></li>`)}</ul>
<div class="actions"><a class="button" href="/profile">Open the profile</a> ${signOutForm(csrfToken)}</div>`;
  }

  const ownerCard = site.ownerName
    ? html`<section class="card card-owner" aria-labelledby="owner-title">
  <h2 id="owner-title"><span class="pill pill-owner">Data owner (Org A)</span> ${site.ownerName}</h2>
  <p>Holds the inquiries. Its share page (<code>/owner/share</code>) lists them; the person picks some and
  confirms, and the owner calls Persona's <em>Create Authorization</em> with its own API key, naming
  ${site.recipientName} and the chosen inquiries. The browser then returns to the recipient with the code.</p>
</section>`
    : html`<section class="card card-owner" aria-labelledby="owner-title">
  <h2 id="owner-title"><span class="pill pill-owner">Data owner (Org A)</span> not simulated</h2>
  <p>This instance talks to a real Persona API with <code>PERSONA_API_KEY</code>, so the simulated owner
  side is switched off. The data owner sends people to <code>/auth/persona/callback</code> with a code.</p>
</section>`;

  return layout({
    title: 'Home',
    side: 'recipient',
    site,
    body: html`<h1>Share Persona inquiries between two organisations</h1>
<p class="lead">${site.ownerName ?? 'A data owner'} shares some of its Persona inquiries with ${site.recipientName}.
${site.recipientName} signs in with <code>passport-withpersona</code>, exchanges the one-time code for an access
token valid one hour, and reads only what was shared.</p>
<section class="card card-recipient" aria-labelledby="recipient-title">
  <h2 id="recipient-title"><span class="pill pill-recipient">Recipient (Org B)</span> ${site.recipientName}</h2>
  ${status}
</section>
${ownerCard}
<section aria-labelledby="steps-title">
  <h2 id="steps-title">The flow</h2>
  <ol class="steps">
    <li><strong>Connect</strong>: <code>GET /auth/persona</code> sends you to the data owner's share page with a one-time <code>state</code>.</li>
    <li><strong>Share</strong>: the owner creates an authorization for the inquiries you pick and sends you back with a <code>code</code>.</li>
    <li><strong>Exchange</strong>: the strategy checks the state, trades the code for an access token and signs you in.</li>
    <li><strong>Read</strong>: each inquiry page checks the token's scope, then fetches the inquiry from Persona with it.</li>
  </ol>
</section>`,
  });
}

function statusBadge(status) {
  return html`<span class="badge badge-${String(status).replace(/[^a-z_]/g, '')}">${String(status).replace(/_/g, ' ')}</span>`;
}

function fullName(inquiry) {
  return [inquiry.nameFirst, inquiry.nameMiddle, inquiry.nameLast].filter(Boolean).join(' ');
}

const VERIFICATION_NAMES = { 'government-id': 'Government ID', selfie: 'Selfie' };

function verificationName(verification) {
  return VERIFICATION_NAMES[verification.type] ?? verification.type;
}

/** One labelled checkbox of the share form. */
function choice({ field, prefix, id, checked, name, meta }) {
  return html`<li>
      <input type="checkbox" id="${prefix}-${id}" name="${field}" value="${id}"${checked ? html` checked` : ''}>
      <label for="${prefix}-${id}"><span class="choice-name">${name}</span>
        <span class="choice-meta">${meta}</span></label>
    </li>`;
}

/**
 * GET /owner/share — the owner's form: one checkbox per inquiry, and per verification those inquiries ran.
 * @param {{ site: Site, inquiries: readonly import('./app.mjs').OwnerInquiry[],
 *   verifications?: readonly import('./app.mjs').OwnerVerification[], state: string, redirectUri: string,
 *   csrfToken: string, error?: string, selected?: readonly string[] }} view
 */
export function sharePage({
  site,
  inquiries,
  verifications = [],
  state,
  redirectUri,
  csrfToken,
  error,
  selected = [],
}) {
  const chosen = new Set(selected);
  const byId = new Map(inquiries.map((inquiry) => [inquiry.id, inquiry]));
  return layout({
    title: 'Share inquiries and verifications',
    side: 'owner',
    site,
    body: html`<h1>Share with ${site.recipientName}</h1>
<p class="lead">${site.recipientName} (Org B) asks to read some of ${site.ownerName}'s Persona inquiries and
verifications. Pick the ones to share. ${site.recipientName} gets read access to those objects only, for one hour.</p>
${error ? html`<div class="alert" role="alert"><p>${error}</p></div>` : ''}
<form method="post" action="/owner/share" class="card card-owner">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <input type="hidden" name="state" value="${state}">
  <input type="hidden" name="redirect_uri" value="${redirectUri}">
  <fieldset>
    <legend>Inquiries to share</legend>
    <ul class="choices">
    ${inquiries.map((inq) =>
      choice({
        field: 'inquiry',
        prefix: 'inq',
        id: inq.id,
        checked: chosen.has(inq.id),
        name: fullName(inq),
        meta: html`${statusBadge(inq.status)} <code>${inq.id}</code> · created ${timeElement(inq.createdAt)}`,
      }),
    )}
    </ul>
  </fieldset>
  ${
    verifications.length === 0
      ? ''
      : html`<fieldset>
    <legend>Verifications to share</legend>
    <ul class="choices">
    ${verifications.map((ver) => {
      const inquiry = ver.inquiryId === null ? undefined : byId.get(ver.inquiryId);
      return choice({
        field: 'verification',
        prefix: 'ver',
        id: ver.id,
        checked: chosen.has(ver.id),
        name: `${verificationName(ver)}${inquiry ? ` · ${fullName(inquiry)}` : ''}`,
        meta: html`${statusBadge(ver.status)} <code>${ver.id}</code>${inquiry ? html` · step of <code>${inquiry.id}</code>` : ''}`,
      });
    })}
    </ul>
  </fieldset>`
  }
  <p class="fine">Scope requested: <code>inquiry.read</code> for each inquiry, <code>verification.read</code> for
  each verification. Returning to <code>${redirectUri}</code>.</p>
  <div class="actions">
    <button type="submit" name="decision" value="share" class="button owner">Share selected</button>
    <button type="submit" name="decision" value="decline" class="button secondary">Decline</button>
  </div>
</form>`,
  });
}

/** GET /profile — time left, scopes as a table, one link per shared inquiry or verification. */
export function profilePage({ site, user, now, csrfToken }) {
  const left = user.expiresAt - now;
  const noun = describeShared(user.scopes.map((scope) => sharedObjects({ scopes: [scope] })[0] ?? { noun: 'object' }));
  return layout({
    title: 'Profile',
    side: 'recipient',
    site,
    body: html`<h1>Signed in with Persona</h1>
<p class="lead">${site.ownerName ?? 'The data owner'} shared ${noun} with
${site.recipientName}. The access token stays in the server-side session; pages show it masked.</p>
<section class="card card-recipient" aria-labelledby="token-title">
  <h2 id="token-title">Access token</h2>
  <dl class="facts">
    <div><dt>Time left</dt><dd><strong class="time-left">${formatDuration(left)}</strong>
      (until ${timeElement(user.expiresAt)})${
        user.expiresInAssumed
          ? html` <span class="fine lifetime-assumed">— assumed: Persona sent no lifetime, so the documented hour applies</span>`
          : ''
      }</dd></div>
    <div><dt>Token</dt><dd><code class="token">${maskToken(user.accessToken)}</code> <span class="fine">(masked)</span></dd></div>
    <div><dt>Type</dt><dd>${user.tokenType}</dd></div>
    ${user.requestId ? html`<div><dt>Request-Id</dt><dd><code>${user.requestId}</code></dd></div>` : ''}
  </dl>
</section>
<section class="card card-recipient" aria-labelledby="scopes-title">
  <h2 id="scopes-title">Granted scopes</h2>
  <table class="scopes">
    <caption>What the access token may read, from its <code>scope</code></caption>
    <thead><tr><th scope="col">Permission</th><th scope="col">Object</th><th scope="col">Open</th></tr></thead>
    <tbody>
    ${user.scopes.map(
      (scope) => html`<tr>
      <td><code class="permission">${scope.permission}</code></td>
      <td><code>${scope.objectId}</code></td>
      <td>${objectLink(scope)}</td>
    </tr>`,
    )}
    </tbody>
  </table>
</section>
<div class="actions">${connectButton(site, 'Connect again')} ${signOutForm(csrfToken)}</div>`,
  });
}

function field(label, value) {
  const shown =
    value === null || value === undefined || value === '' ? html`<span class="fine">not given</span>` : value;
  return html`<div><dt>${label}</dt><dd>${shown}</dd></div>`;
}

/**
 * The frame of a page showing one object read from Persona with the access token: the way
 * back, the heading, where the object came from and (when known) Persona's Request-Id.
 */
function objectPage({ site, kind, id, heading, requestId, body }) {
  return layout({
    title: `${kind.noun[0].toUpperCase()}${kind.noun.slice(1)} ${id}`,
    side: 'recipient',
    site,
    body: html`<p class="crumbs"><a href="/profile">← Profile</a></p>
<h1>${heading} <span class="id"><code>${id}</code></span></h1>
<p class="lead">Read from Persona with <code>GET /api/v1/${kind.path}/${id}</code> and the access token,
after <code>requireScope('${kind.permission}')</code> checked the token grants this ${kind.noun}.</p>
${body}
${requestId ? html`<p class="fine">Persona Request-Id: <code>${requestId}</code></p>` : ''}`,
  });
}

/** GET /inquiries/:id — one inquiry as fetched from Persona with the access token. */
export function inquiryPage({ site, inquiry, requestId }) {
  const a = inquiry.attributes ?? {};
  const name = [a['name-first'], a['name-middle'], a['name-last']].filter(Boolean).join(' ');
  const address = [
    a['address-street-1'],
    a['address-city'],
    a['address-subdivision'],
    a['address-postal-code'],
    a['address-country-code'],
  ]
    .filter(Boolean)
    .join(', ');
  const tags = Array.isArray(a.tags) && a.tags.length > 0 ? a.tags.join(', ') : null;
  return objectPage({
    site,
    kind: { noun: 'inquiry', path: 'inquiries', permission: 'inquiry.read' },
    id: inquiry.id,
    heading: name || 'Inquiry',
    requestId,
    body: html`<section class="card card-recipient" aria-labelledby="inquiry-title">
  <h2 id="inquiry-title">Inquiry</h2>
  <dl class="facts">
    ${field('Status', a.status ? statusBadge(a.status) : null)}
    ${field('Name', name)}
    ${field('Birthdate', a.birthdate)}
    ${field('Email', a['email-address'])}
    ${field('Phone', a['phone-number'])}
    ${field('Address', address)}
    ${field('Reference ID', a['reference-id'])}
    ${field('Created', a['created-at'] ? timeElement(a['created-at']) : null)}
    ${field('Completed', a['completed-at'] ? timeElement(a['completed-at']) : null)}
    ${field('Tags', tags)}
  </dl>
</section>`,
  });
}

/** GET /verifications/:id — one verification as fetched from Persona with the access token. */
export function verificationPage({ site, verification, requestId }) {
  const a = verification.attributes ?? {};
  const type = String(verification.type ?? '').replace(/^verification\//, '');
  const name = VERIFICATION_NAMES[type] ?? type;
  const inquiryId = verification.relationships?.inquiry?.data?.id;
  const checks = Array.isArray(a.checks) ? a.checks : [];
  const person = [a['name-first'], a['name-last']].filter(Boolean).join(' ');
  return objectPage({
    site,
    kind: { noun: 'verification', path: 'verifications', permission: 'verification.read' },
    id: verification.id,
    heading: `${name} verification`,
    requestId,
    body: html`<section class="card card-recipient" aria-labelledby="verification-title">
  <h2 id="verification-title">Verification</h2>
  <dl class="facts">
    ${field('Status', a.status ? statusBadge(a.status) : null)}
    ${field('Type', html`<code>${verification.type}</code>`)}
    ${type === 'government-id' ? field('ID class', a['id-class']) : ''}
    ${type === 'government-id' ? field('Name on the ID', person) : ''}
    ${field('Country', a['country-code'])}
    ${field('Created', a['created-at'] ? timeElement(a['created-at']) : null)}
    ${field('Submitted', a['submitted-at'] ? timeElement(a['submitted-at']) : null)}
    ${field('Completed', a['completed-at'] ? timeElement(a['completed-at']) : null)}
    ${field('Inquiry', inquiryId ? html`<code>${inquiryId}</code>` : null)}
  </dl>
</section>
<section class="card card-recipient" aria-labelledby="checks-title">
  <h2 id="checks-title">Checks</h2>
  ${
    checks.length === 0
      ? html`<p class="fine">No checks ran yet.</p>`
      : html`<table class="scopes">
    <caption>What Persona checked, from <code>checks</code></caption>
    <thead><tr><th scope="col">Check</th><th scope="col">Result</th><th scope="col">Reasons</th></tr></thead>
    <tbody>
    ${checks.map(
      (check) => html`<tr><td><code>${check.name}</code></td><td>${statusBadge(check.status)}</td>
      <td>${Array.isArray(check.reasons) && check.reasons.length > 0 ? check.reasons.join(', ') : '—'}</td></tr>`,
    )}
    </tbody>
  </table>`
  }
</section>`,
  });
}

/**
 * Any page that explains a failure: what happened, what to do, and (when known) the error code
 * and Persona's Request-Id. Never a stack trace.
 */
/**
 * GET /auth/persona/used — where a callback lands when Persona refused its code: typically the
 * second of two tabs that opened one sign-in link (the other tab signed in), or an old link.
 * Not an error page: it says what happened and offers both ways on.
 */
export function linkUsedPage({ site, requestId }) {
  return layout({
    title: 'This sign-in link has already been used',
    side: 'recipient',
    site,
    body: html`<h1>This sign-in link has already been used</h1>
<p class="lead">A link from the data owner works once, for a few minutes.</p>
<p>If you opened it in two tabs or windows, the other one signed you in: carry on there, or open your profile.
Otherwise the link is used up or expired: start again to ask the data owner for a new one.</p>
${requestId ? html`<dl class="facts small"><div><dt>Persona Request-Id</dt><dd><code>${requestId}</code></dd></div></dl>` : ''}
<div class="actions">
  <a class="button" href="/profile">Open your profile</a>
  ${connectButton(site, 'Start again')}
  <a class="button secondary" href="/">Home</a>
</div>`,
  });
}

/**
 * A page that says what went wrong and what to do next; `side` is whose page it is (default the
 * recipient's, undefined for neutral pages such as 404).
 * @param {{ site: Site, side?: 'recipient' | 'owner' | undefined, title: string, message: string, hint?: string,
 *   code?: string, requestId?: string, startAgain?: boolean, backToProfile?: boolean, openProfile?: boolean,
 *   csrfToken?: string }} view
 */
export function problemPage({
  site,
  side = 'recipient',
  title,
  message,
  hint,
  code,
  requestId,
  startAgain = true,
  backToProfile = false,
  openProfile = false,
  csrfToken,
}) {
  return layout({
    title,
    side,
    site,
    body: html`<div class="problem" role="alert">
  <h1>${title}</h1>
  <p class="lead">${message}</p>
  ${hint ? html`<p>${hint}</p>` : ''}
</div>
${
  code || requestId
    ? html`<dl class="facts small">
  ${code ? html`<div><dt>Error code</dt><dd><code>${code}</code></dd></div>` : ''}
  ${requestId ? html`<div><dt>Persona Request-Id</dt><dd><code>${requestId}</code></dd></div>` : ''}
</dl>`
    : ''
}
<div class="actions">
  ${openProfile ? html`<a class="button" href="/profile">Open your profile</a>` : ''}
  ${startAgain ? connectButton(site, 'Start again') : ''}
  ${backToProfile ? html`<a class="button secondary" href="/profile">Back to what was shared</a>` : ''}
  <a class="button secondary" href="/">Home</a>
  ${csrfToken ? signOutForm(csrfToken) : ''}
</div>`,
  });
}
