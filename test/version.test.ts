/**
 * A release bumps the version in package.json and in src/version.ts (sent in the User-Agent)
 * and adds a CHANGELOG section: this keeps the three in step.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

describe('the version', () => {
  it('is the same in package.json and src/version.ts', () => {
    expect(VERSION).toBe(manifest.version);
  });

  it('is a semver version', () => {
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/);
  });

  it('has a section in CHANGELOG.md', () => {
    const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain(`## [${manifest.version}]`);
  });
});
