/** Casing of response keys, chosen by the `Key-Inflection` request header. */
export type KeyInflection = 'kebab' | 'snake' | 'camel';

/**
 * Reads `Key-Inflection`: undefined when absent (kebab is the default), null when the value is
 * not one of kebab, snake or camel (case-insensitive).
 */
export function parseKeyInflection(header: string | undefined): KeyInflection | null | undefined {
  if (header === undefined) return undefined;
  const value = header.trim().toLowerCase();
  return value === 'kebab' || value === 'snake' || value === 'camel' ? value : null;
}

/** Spells a kebab-case key (`address-street-1`) in the given inflection. */
export function inflectKey(key: string, inflection: KeyInflection): string {
  if (inflection === 'kebab') return key;
  if (inflection === 'snake') return key.replace(/-/g, '_');
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Re-keys every plain object inside `value` (values are left alone). Keys are kebab-case on input. */
export function inflectDeep(value: unknown, inflection: KeyInflection): unknown {
  if (Array.isArray(value)) return value.map((item) => inflectDeep(item, inflection));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[inflectKey(key, inflection)] = inflectDeep(inner, inflection);
    return out;
  }
  return value;
}

/**
 * Brings a request parameter name in any inflection to kebab-case:
 * `grant_type`, `grantType` and `grant-type` all become `grant-type`.
 */
export function normalizeParamKey(key: string): string {
  if (key.includes('_')) return key.replace(/_/g, '-');
  if (/^[a-z][a-zA-Z0-9]*$/.test(key)) return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return key;
}
