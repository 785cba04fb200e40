// The sample app in a real browser, driven by playwright-core, the emulator and the app on free
// loopback ports. The browser is the first of CHROMIUM_PATH, /usr/bin/chromium and the
// @sparticuz/chromium devDependency (example-app/chromium.mjs); with none of them the suite is
// skipped (test/setup/system-requirements.ts says so), or fails under PWP_REQUIRE_ALL=1.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPersonaEmulator, type EmulatedInquiry, type PersonaEmulator } from '../../src/testing/index.js';
import type { RunningSampleApp } from '../../example-app/app.mjs';
import { launchChromium } from '../../example-app/chromium.mjs';
import { loadSample, sampleOptions } from '../example-app/helpers.js';

const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));

/** The one browser global used here (the tests compile without the DOM library). */
interface StyleWindow {
  getComputedStyle(element: unknown): { backgroundColor: string };
}

let emulator: PersonaEmulator;
let app: RunningSampleApp;
let browser: Browser;
let context: BrowserContext | undefined;

async function heading(page: Page): Promise<string> {
  return ((await page.getByRole('heading', { level: 1 }).textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

function expectCleanPage(text: string): void {
  expect(text).not.toMatch(/\n\s+at [\w.<>]+ \(/);
  expect(text).not.toMatch(/node_modules|Error:/);
}

describe.skipIf(inject('chromium') === null)('the sample app in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    emulator = await startPersonaEmulator();
    const { startApp } = await loadSample();
    const { publicURL: _fixed, ...options } = sampleOptions(emulator);
    app = await startApp(options);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await app?.close();
    await emulator?.close();
  });

  it('share two inquiries → profile → granted inquiry → 403 for another → sign out → replayed callback is refused cleanly', async () => {
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const callbacks: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/auth/persona/callback') callbacks.push(request.url());
    });

    // Home: both sides, not signed in.
    await page.goto(`${app.url}/`);
    expect(await heading(page)).toBe('Share Persona inquiries between two organisations');
    expect(await page.locator('.status').textContent()).toContain('Not signed in');

    // Start: the owner's share page.
    await page.getByRole('link', { name: 'Connect with Persona' }).click();
    await page.waitForURL((url) => url.pathname === '/owner/share');
    expect(await page.locator('.side-label').textContent()).toBe('Data owner (Org A)');
    const [jane, rahul, kenji] = [0, 1, 3].map((i) => {
      const inquiry = emulator.owner.inquiries[i];
      if (!inquiry) throw new Error(`the emulator seeds at least ${i + 1} owner inquiries`);
      return inquiry;
    }) as [EmulatedInquiry, EmulatedInquiry, EmulatedInquiry];
    const inquiryBoxes = page.getByRole('group', { name: 'Inquiries to share' });
    const janeBox = inquiryBoxes.getByRole('checkbox', { name: /Jane Amelia Doe/ });
    const rahulBox = inquiryBoxes.getByRole('checkbox', { name: /Rahul Mehta/ });
    await janeBox.check();
    await rahulBox.check();
    const janeId = emulator.owner.verifications.find((v) => v.inquiryId === jane.id && v.type === 'government-id');
    if (!janeId) throw new Error("the emulator seeds Jane's government ID verification");
    await page
      .getByRole('group', { name: 'Verifications to share' })
      .getByRole('checkbox', { name: /Government ID · Jane Amelia Doe/ })
      .check();
    expect(await page.getByRole('group', { name: 'Inquiries to share' }).getByRole('checkbox').count()).toBe(
      emulator.owner.inquiries.length,
    );
    await page.screenshot({ path: `${OUTPUT}share-page.png`, fullPage: true });

    // Confirm: back on the recipient's side, on a clean URL.
    await page.getByRole('button', { name: 'Share selected' }).click();
    await page.waitForURL(`${app.url}/profile`);
    expect(page.url()).toBe(`${app.url}/profile`);
    expect(page.url()).not.toContain('code=');
    expect(callbacks).toHaveLength(1);
    const callback = new URL(callbacks[0]!);
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBeTruthy();

    expect(await heading(page)).toBe('Signed in with Persona');
    expect(await page.locator('.side-label').textContent()).toBe('Recipient (Org B)');
    expect(await page.locator('.time-left').textContent()).toMatch(/^(59|60) min \d+ s$/);
    const rows = page.getByRole('table').locator('tbody tr');
    expect(await rows.count()).toBe(3);
    const tableText = (await page.getByRole('table').textContent()) ?? '';
    expect(tableText).toContain(jane.id);
    expect(tableText).toContain(rahul.id);
    expect(await page.locator('code.token').textContent()).toMatch(/^persona_access_token_.{3}…$/);
    await page.screenshot({ path: `${OUTPUT}profile.png`, fullPage: true });

    // A granted inquiry, read from Persona with the token.
    await page.getByRole('link', { name: `View inquiry ${jane.id}` }).click();
    await page.waitForURL(`${app.url}/inquiries/${jane.id}`);
    expect(await heading(page)).toContain('Jane Amelia Doe');
    expect(await page.locator('dl.facts').textContent()).toContain('jane.doe@example.com');

    // The shared verification, read from Persona with the token.
    await page.goto(`${app.url}/profile`);
    await page.getByRole('link', { name: `View verification ${janeId.id}` }).click();
    await page.waitForURL(`${app.url}/verifications/${janeId.id}`);
    expect(await heading(page)).toContain('Government ID verification');
    expect(await page.getByRole('table').textContent()).toContain('id_tamper_detection');

    // One that was not shared: the 403 page.
    const refused = await page.goto(`${app.url}/inquiries/${kenji.id}`);
    expect(refused?.status()).toBe(403);
    expect(await heading(page)).toBe('This inquiry was not shared with you');
    await page.screenshot({ path: `${OUTPUT}not-shared.png`, fullPage: true });

    // Back to the profile from there, and sign out.
    await page.getByRole('link', { name: 'Back to what was shared' }).click();
    await page.waitForURL(`${app.url}/profile`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${app.url}/`);
    expect(await page.locator('.status').textContent()).toContain('Not signed in');
    expect((await page.goto(`${app.url}/profile`))?.status()).toBe(401);

    // Replaying the old callback URL: a clean error page that offers to start again.
    const replay = await page.goto(callbacks[0]!);
    expect(replay?.status()).toBe(403);
    expect(replay?.headers()['cache-control']).toBe('no-store');
    expect(replay?.headers()['referrer-policy']).toBe('no-referrer');
    expect(await heading(page)).toBe('This sign-in link is not valid here');
    expect(await page.getByRole('link', { name: 'Start again' }).getAttribute('href')).toBe('/auth/persona');
    expectCleanPage((await page.locator('body').innerText()) ?? '');
    await page.screenshot({ path: `${OUTPUT}replayed-callback.png`, fullPage: true });
    expect((await page.goto(`${app.url}/profile`))?.status()).toBe(401);

    // The stylesheet loaded under the CSP, and nothing complained.
    const background = await page
      .locator('header.site')
      .evaluate((el) => (globalThis as unknown as StyleWindow).getComputedStyle(el).backgroundColor);
    expect(background).toBe('rgb(29, 35, 48)');
    expect(problems.filter((text) => !/status of 40[13]/.test(text))).toEqual([]);
  });
});
