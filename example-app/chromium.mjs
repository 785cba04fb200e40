// Chromium for the screenshots and the end-to-end test, driven by playwright-core. Playwright
// never downloads a browser here; the first of these that exists is used:
//   1. CHROMIUM_PATH
//   2. chromium on PATH (Debian's package installs /usr/bin/chromium)
//   3. the headless Chromium inside the @sparticuz/chromium npm package (Linux x64 only; a
//      devDependency, so `npm ci` brings it from the registry), unpacked into the temp directory
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';

const NPM_CHROMIUM = '@sparticuz/chromium';

/**
 * Where a usable Chromium is: what to call it in messages, and its path.
 * @typedef {object} ChromiumSource
 * @property {string} source
 * @property {() => Promise<string>} executablePath
 */

/** @param {string} path */
function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `name` when it holds a slash and is executable, else the first executable `name` on PATH.
 * @param {string} name
 * @returns {string | undefined}
 */
export function findProgram(name) {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function npmChromiumInstalled() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  try {
    createRequire(import.meta.url).resolve(NPM_CHROMIUM);
    return true;
  } catch {
    return false;
  }
}

/**
 * The browser to use, or undefined when none of the three is there. A CHROMIUM_PATH that names
 * no executable program is an error, not a reason to fall back to another browser silently.
 * @returns {ChromiumSource | undefined}
 * @throws {Error} when CHROMIUM_PATH is set but is not an executable program (a path, or a name on PATH)
 */
export function findChromium() {
  const wanted = process.env.CHROMIUM_PATH;
  if (wanted) {
    const fromEnv = findProgram(wanted);
    if (!fromEnv) {
      throw new Error(
        `CHROMIUM_PATH=${wanted} is not an executable program: fix it, or unset it to use chromium on PATH or the ${NPM_CHROMIUM} package`,
      );
    }
    return { source: `CHROMIUM_PATH (${fromEnv})`, executablePath: async () => fromEnv };
  }
  const onPath = findProgram('chromium');
  if (onPath) return { source: onPath, executablePath: async () => onPath };
  if (npmChromiumInstalled()) {
    return {
      source: `the ${NPM_CHROMIUM} npm package`,
      executablePath: async () => (await import(NPM_CHROMIUM)).default.executablePath(),
    };
  }
  return undefined;
}

/**
 * Launches headless Chromium for the screenshots and the end-to-end test.
 * @returns {Promise<import('playwright-core').Browser>}
 */
export async function launchChromium() {
  const found = findChromium();
  if (!found) {
    throw new Error(
      `no Chromium: set CHROMIUM_PATH, put chromium on PATH (apt-get install chromium), or run npm ci on Linux x64 for ${NPM_CHROMIUM}`,
    );
  }
  return chromium.launch({
    executablePath: await found.executablePath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
