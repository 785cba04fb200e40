import { PersonaStrategy } from 'passport-withpersona';
export const ok = typeof PersonaStrategy === 'function';
