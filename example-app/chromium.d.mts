// Types of chromium.mjs, for the TypeScript tests.
import type { Browser } from 'playwright-core';

/** `name` when it holds a slash and is executable, else the first executable `name` on PATH. */
export function findProgram(name: string): string | undefined;
/** Where a usable Chromium is: a description of the source and a function resolving its path. */
export interface ChromiumSource {
  source: string;
  executablePath(): Promise<string>;
}
export function findChromium(): ChromiumSource | undefined;
export function launchChromium(): Promise<Browser>;
