/**
 * `passport-withpersona/testing`: a local Persona to test against.
 *
 * `startPersonaEmulator()` runs a real HTTP server on loopback that speaks Persona's OAuth
 * endpoints (Create Authorization, Create Access Token), `GET /api/v1/inquiries/:id` and
 * `GET /api/v1/verifications/:id`, with seeded organisations, an emulated clock and fault
 * injection. It shares no code with the client side of the library.
 *
 * @module passport-withpersona/testing
 */
export { startPersonaEmulator } from './emulator.js';
export type * from './types.js';
