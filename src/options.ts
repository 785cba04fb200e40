/**
 * Reads an optional integer option: the fallback when absent, a `TypeError` naming the option
 * when it is not a safe integer of at least `min`.
 */
export function integerOption(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`passport-withpersona: ${name} must be an integer ≥ ${min}`);
  }
  return value;
}
