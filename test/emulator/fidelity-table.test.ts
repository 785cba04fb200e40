import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const table = readFileSync(fileURLToPath(new URL('../../docs/persona-fidelity.md', import.meta.url)), 'utf8');
const rows = table
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('| behaviour') && !line.startsWith('|---'));

/** The `file › … › test name` references of one side (`emulator:` or `strategy:`) of a row's test cell. */
function references(cell: string, side: 'emulator' | 'strategy'): { file: string; name: string }[] {
  const part = cell.split(/;\s*(?=(?:emulator|strategy):)/).find((piece) => piece.trim().startsWith(`${side}:`)) ?? '';
  return [...part.matchAll(/`([\w.-]+\.test\.ts) › ([^`]+)`/g)].map((match) => {
    const path = match[2] ?? '';
    return { file: match[1] ?? '', name: path.split(' › ').at(-1) ?? '' };
  });
}

describe('docs/persona-fidelity.md', () => {
  it('has its rows (a change of table format that hides them fails here)', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
  });

  it.each(rows.map((row) => [row.split('|')[1]?.trim() ?? '', row]))(
    'row "%s" names existing tests of both sides',
    (_name, row) => {
      const cells = row.split(/(?<!\\)\|/);
      const testCell = cells.at(-2) ?? '';
      for (const side of ['emulator', 'strategy'] as const) {
        const refs = references(testCell, side);
        // A row may say the strategy takes no part (the owner's side, reading objects); the emulator always does.
        if (side === 'strategy' && /strategy: none\s*$/.test(testCell)) {
          expect(refs).toEqual([]);
          continue;
        }
        expect(refs.length, `${side} side`).toBeGreaterThan(0);
        for (const { file, name } of refs) {
          const path = fileURLToPath(new URL(file, import.meta.url));
          expect(existsSync(path), file).toBe(true);
          const source = readFileSync(path, 'utf8').replace(/\\'/g, "'");
          expect(
            source.includes(`'${name}'`) || source.includes(`"${name}"`) || source.includes(`\`${name}\``),
            `${file} › ${name}`,
          ).toBe(true);
        }
      }
    },
  );
});
