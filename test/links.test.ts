// The README is read on the npm page and in node_modules, where only the tarball's files exist.
// Every link it holds must work there: a relative link names a file `npm pack` ships, a link into
// the repository is absolute (https://github.com/passport-withpersona/passport-withpersona/blob/main/…)
// and names a file of this checkout, and an anchor names a heading of the README. package.json
// links home the same way.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/build.js';

const REPOSITORY = 'https://github.com/passport-withpersona/passport-withpersona';
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The README without its fenced code blocks, where brackets are code, not links. */
const prose = README.replace(/^```[\s\S]*?^```$/gm, '');

/** Every link target: inline `[text](target)`, images, and reference definitions `[name]: target`. */
function linkTargets(markdown: string): string[] {
  const inline = [...markdown.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1] ?? '');
  const references = [...markdown.matchAll(/^\[[^\]]+\]:\s+(\S+)/gm)].map((match) => match[1] ?? '');
  const autolinks = [...markdown.matchAll(/<(https?:\/\/[^>\s]+)>/g)].map((match) => match[1] ?? '');
  return [...inline, ...references, ...autolinks];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

let packed: string[] | undefined;

/** The files `npm pack` would put in the tarball (without building: `--ignore-scripts`), asked once. */
function packedFiles(): string[] {
  if (packed) return packed;
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [report] = JSON.parse(output) as Array<{ files: Array<{ path: string }> }>;
  packed = (report?.files ?? []).map((file) => file.path);
  return packed;
}

describe("the README's links", () => {
  const targets = linkTargets(prose);

  it('finds the links, relative, into the repository and anchors', () => {
    expect(targets.length).toBeGreaterThan(20);
    expect(targets.some((target) => target.startsWith(`${REPOSITORY}/blob/main/`))).toBe(true);
    expect(targets.some((target) => target.startsWith('#'))).toBe(true);
  });

  it('links relatively only to files the tarball ships', () => {
    const relative = targets.filter((target) => !/^[a-z][a-z+.-]*:/i.test(target) && !target.startsWith('#'));
    const files = packedFiles();
    const missing = relative.map((target) => target.split('#')[0] ?? '').filter((path) => !files.includes(path));
    expect(missing, 'relative links to files npm pack leaves out: make them absolute or ship the file').toEqual([]);
  });

  it('links into the repository by absolute URL, to files that exist', () => {
    const inRepository = targets.filter((target) => target.startsWith(`${REPOSITORY}/`));
    const files = inRepository
      .filter((target) => target.startsWith(`${REPOSITORY}/blob/main/`))
      .map((target) => (target.slice(`${REPOSITORY}/blob/main/`.length).split('#')[0] ?? '').replace(/\/$/, ''));
    expect(files.filter((file) => !existsSync(join(ROOT, file)))).toEqual([]);
    const others = inRepository.filter(
      (target) => !target.startsWith(`${REPOSITORY}/blob/main/`) && !target.startsWith(`${REPOSITORY}/security/`),
    );
    expect(others, 'a link into the repository that is neither a file nor the security page').toEqual([]);
  });

  it('points every anchor at a heading of the README', () => {
    const headings = new Set(
      [...prose.matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug((match[1] ?? '').replace(/`/g, ''))),
    );
    const broken = targets.filter((target) => target.startsWith('#') && !headings.has(target.slice(1)));
    expect(broken).toEqual([]);
  });
});

describe('package.json', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    repository?: { type: string; url: string };
    homepage?: string;
    bugs?: { url: string };
    files: string[];
  };

  it('links home: repository, homepage and bugs', () => {
    expect(manifest.repository).toEqual({ type: 'git', url: `git+${REPOSITORY}.git` });
    expect(manifest.homepage).toBe(`${REPOSITORY}#readme`);
    expect(manifest.bugs).toEqual({ url: `${REPOSITORY}/issues` });
  });

  it('ships the README, the licence and the changelog the README links to', () => {
    expect(packedFiles()).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json']));
  });
});
