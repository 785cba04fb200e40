/**
 * `Persona-Version` values the emulator accepts (any other value → 400). Dated versions seen in
 * Persona's documentation; 2025-12-08 is the latest it names.
 */
export const KNOWN_PERSONA_VERSIONS: readonly string[] = Object.freeze([
  '2020-05-18',
  '2021-02-21',
  '2021-05-14',
  '2023-01-05',
  '2025-12-08',
]);
