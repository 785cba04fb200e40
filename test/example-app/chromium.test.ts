// Which Chromium the browser test and the screenshots use: CHROMIUM_PATH when it is set, and a
// wrong one is an error rather than a silent fall-back to another browser.
import { afterEach, describe, expect, it } from 'vitest';
import { findChromium } from '../../example-app/chromium.mjs';
import { ROOT } from '../helpers/build.js';

const saved = process.env.CHROMIUM_PATH;
afterEach(() => {
  if (saved === undefined) delete process.env.CHROMIUM_PATH;
  else process.env.CHROMIUM_PATH = saved;
});

describe('findChromium', () => {
  it('throws, naming the value, when CHROMIUM_PATH is not an executable program', () => {
    // a missing file, a name on no PATH entry, a file that is not executable
    for (const wrong of ['/nonexistent/chrome', 'no-such-chromium-program', `${ROOT}package.json`]) {
      process.env.CHROMIUM_PATH = wrong;
      expect(() => findChromium()).toThrow(`CHROMIUM_PATH=${wrong} is not an executable program`);
    }
  });

  it('uses CHROMIUM_PATH when it names an executable program', async () => {
    process.env.CHROMIUM_PATH = process.execPath;
    const found = findChromium();
    expect(found?.source).toBe(`CHROMIUM_PATH (${process.execPath})`);
    expect(await found?.executablePath()).toBe(process.execPath);
  });
});
