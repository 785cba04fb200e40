/** This package's version, sent in the `User-Agent` of every request to Persona. */
export const VERSION = '0.2.0';
