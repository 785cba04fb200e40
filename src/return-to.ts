const MAX_LENGTH = 2048;
// Visible ASCII only: no control characters (browsers strip tabs and newlines, so `/\t/evil`
// would become `//evil`), no spaces, nothing outside ASCII.
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
// Percent-encoded `/`, `\` or `.`: a later decoding step could turn `/%2F` into `//`.
const ENCODED_SEPARATOR = /%(2f|5c|2e)/i;
// A `.` or `..` path segment: `/..//evil` normalises to `//evil`, which a later step that
// re-emits the normalised path would turn into an open redirect.
const DOT_SEGMENT = /(^|\/)\.{1,2}(\/|\?|#|$)/;

/**
 * Tells whether `value` is safe to redirect to after sign-in: a same-origin relative path such as
 * `/inquiries/inq_1?tab=2`.
 *
 * Refused: anything not starting with a single `/` (so every scheme, and `//host`), any backslash
 * (`/\host` is `//host` to a browser), control characters and non-ASCII, percent-encoded slashes,
 * backslashes or dots, `.` and `..` path segments, and anything over 2048 characters.
 */
export function isSafeReturnTo(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return false;
  if (!VISIBLE_ASCII.test(value)) return false;
  if (value[0] !== '/' || value[1] === '/') return false;
  if (value.includes('\\') || ENCODED_SEPARATOR.test(value)) return false;
  const path = value.split(/[?#]/, 1)[0] as string;
  if (DOT_SEGMENT.test(path)) return false;
  // Belt and braces: resolving against a dummy origin must not change the origin.
  try {
    return new URL(value, 'http://origin.invalid').origin === 'http://origin.invalid';
  } catch {
    return false;
  }
}
