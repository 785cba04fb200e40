/**
 * Reads an optional integer option: the fallback when absent, a `TypeError` naming the option
 * when it is not a safe integer from `min` to `max`.
 */
export function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new TypeError(`passport-withpersona: ${name} must be an integer ${range}`);
  }
  return value;
}
