/**
 * `Persona-Version` values the emulator accepts out of the box: every dated version Persona's
 * documentation names. Sources (docs.withpersona.com): the `Persona-Version` enum of the OAuth
 * reference pages, Create Access Token and Create Authorization (`/api-reference/oauth/…`):
 * 2020-05-18, 2021-02-21, 2021-07-05, 2021-08-18, 2022-09-01, 2023-01-05, 2025-10-27 and
 * 2025-12-08; and the documentation's version index (`/llms.txt`, "For other versions…"), which
 * adds 2021-05-14 and 2026-09-29. What Persona answers to a version it does not know is not
 * documented: the emulator's 400 is its own choice. Add versions with the `personaVersions`
 * option or the CLI's `--persona-version`.
 */
export const KNOWN_PERSONA_VERSIONS: readonly string[] = Object.freeze([
  '2020-05-18',
  '2021-02-21',
  '2021-05-14',
  '2021-07-05',
  '2021-08-18',
  '2022-09-01',
  '2023-01-05',
  '2025-10-27',
  '2025-12-08',
  '2026-09-29',
]);

const VERSION_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/**
 * The accepted versions: {@link KNOWN_PERSONA_VERSIONS} plus `extra`. Throws TypeError when an
 * extra one is not a `YYYY-MM-DD` date, the only form Persona's versions take.
 */
export function acceptedVersions(extra: readonly string[] | undefined): ReadonlySet<string> {
  if (extra !== undefined && !Array.isArray(extra)) throw new TypeError('personaVersions must be an array of dates');
  for (const version of extra ?? []) {
    if (typeof version !== 'string' || !VERSION_DATE.test(version)) {
      throw new TypeError(`personaVersions: ${JSON.stringify(version)} is not a YYYY-MM-DD date`);
    }
  }
  return new Set([...KNOWN_PERSONA_VERSIONS, ...(extra ?? [])]);
}
