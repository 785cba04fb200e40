// Regenerates the README screenshots (docs/images/profile.png and share.png) by running the
// flow in Chromium (example-app/chromium.mjs says which): `npm run build && node example-app/screenshot.mjs`.
// Nothing is downloaded.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startPersonaEmulator } from 'passport-withpersona/testing';
import { startApp } from './app.mjs';
import { launchChromium } from './chromium.mjs';
import { emulatorSides } from './emulator-sides.mjs';

const OUT = fileURLToPath(new URL('../docs/images/', import.meta.url));
mkdirSync(OUT, { recursive: true });

const emulator = await startPersonaEmulator({ seed: 'passport-withpersona example-app' });
const app = await startApp({
  sessionSecret: 'screenshot only',
  ...emulatorSides(emulator, { label: 'the bundled Persona emulator' }),
});
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await page.goto(`${app.url}/`);
  await page.getByRole('link', { name: 'Connect with Persona' }).click();
  await page.waitForURL((url) => url.pathname === '/owner/share');
  const inquiries = page.getByRole('group', { name: 'Inquiries to share' });
  await inquiries.getByRole('checkbox', { name: /Jane Amelia Doe/ }).check();
  await inquiries.getByRole('checkbox', { name: /Rahul Mehta/ }).check();
  await page
    .getByRole('group', { name: 'Verifications to share' })
    .getByRole('checkbox', { name: /Government ID · Jane Amelia Doe/ })
    .check();
  await page.screenshot({ path: `${OUT}share.png`, fullPage: true });
  await page.getByRole('button', { name: 'Share selected' }).click();
  await page.waitForURL(`${app.url}/profile`);
  await page.screenshot({ path: `${OUT}profile.png`, fullPage: true });
  console.log(`wrote ${OUT}share.png and ${OUT}profile.png`);
} finally {
  await browser.close();
  await app.close();
  await emulator.close();
}
