// A self-signed certificate for the token stub, made at run time with node:crypto alone: Node has
// no API that writes an X.509 certificate, so this encodes the few DER structures one needs
// (RFC 5280) and signs them with an ECDSA P-256 key. No file of key material is ever committed,
// and nothing outside Node (openssl, a package) has to be present.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

function derLength(n) {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const der = (tag, ...parts) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};
const sequence = (...parts) => der(0x30, ...parts);
const set = (...parts) => der(0x31, ...parts);
const octetString = (bytes) => der(0x04, bytes);
const bitString = (bytes) => der(0x03, Buffer.from([0]), bytes);
const utf8String = (text) => der(0x0c, Buffer.from(text, 'utf8'));
const explicit = (n, inner) => der(0xa0 | n, inner);

function objectId(dotted) {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const value of rest) {
    const groups = [value & 0x7f];
    for (let v = value >> 7; v > 0; v >>= 7) groups.unshift(0x80 | (v & 0x7f));
    bytes.push(...groups);
  }
  return der(0x06, Buffer.from(bytes));
}

function unsignedInteger(bytes) {
  return der(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

/** UTCTime, YYMMDDHHMMSSZ: valid for dates up to 2049, all this certificate needs. */
const utcTime = (date) => der(0x17, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));

const ECDSA_WITH_SHA256 = sequence(objectId('1.2.840.10045.4.3.2'));

/**
 * A fresh key and a self-signed certificate for `127.0.0.1` and `localhost`, valid from an hour
 * ago for two days. Returns both in PEM; the certificate is its own trust anchor (give it to a
 * client as `ca`, or as the file NODE_EXTRA_CA_CERTS names).
 */
export function selfSignedCertificate(commonName = 'passport-withpersona bench stub') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = sequence(set(sequence(objectId('2.5.4.3'), utf8String(commonName))));
  const now = Date.now();
  const altNames = sequence(der(0x87, Buffer.from([127, 0, 0, 1])), der(0x82, Buffer.from('localhost')));
  const extensions = sequence(
    sequence(objectId('2.5.29.19'), octetString(sequence())), // basicConstraints: not a CA
    sequence(objectId('2.5.29.17'), octetString(altNames)), // subjectAltName
  );
  const tbs = sequence(
    explicit(0, der(0x02, Buffer.from([2]))), // version 3
    unsignedInteger(randomBytes(16)),
    ECDSA_WITH_SHA256,
    name,
    sequence(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 2 * 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, extensions),
  );
  const certificate = sequence(tbs, ECDSA_WITH_SHA256, bitString(sign('sha256', tbs, privateKey)));
  const base64 = certificate.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    cert: `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`,
  };
}
