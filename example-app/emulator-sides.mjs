// Both organisations of the sample, played by the bundled emulator: the recipient's Persona
// settings and the simulated owner. Used by start.mjs, the screenshots and the tests.

/**
 * `{ persona, owner }` options for `createApp`/`startApp` on `emulator`; `label` (optional) says
 * on the pages which Persona the recipient talks to.
 *
 * @param {import('passport-withpersona/testing').PersonaEmulator} emulator
 * @param {{ label?: string }} [options]
 * @returns {Required<Pick<import('./app.mjs').SampleAppOptions, 'persona' | 'owner'>>}
 */
export function emulatorSides(emulator, { label } = {}) {
  /** @type {import('./app.mjs').RecipientOptions} */
  const persona = {
    apiKey: emulator.recipient.apiKey,
    baseURL: emulator.url,
    organizationName: emulator.recipient.name,
  };
  if (label !== undefined) persona.label = label;
  return {
    persona,
    owner: {
      name: emulator.owner.name,
      apiKey: emulator.owner.apiKey,
      baseURL: emulator.url,
      recipientOrgId: emulator.recipient.id,
      // Persona's list endpoints are not emulated: the owner's objects come from the handle.
      inquiries: () => emulator.owner.inquiries,
      verifications: () => emulator.owner.verifications,
    },
  };
}
