// Lists the longest functions (declarations, methods, accessors, constructors, arrows) of the
// TypeScript files under the given directories, longest first: functions fit on a screen, about
// 60 lines at most (CONTRIBUTING.md).
//
//   node scripts/function-lengths.mjs [--top N] [dir…]     (default: src, the top 10)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '10' } },
  allowPositionals: true,
});

function tsFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function nameOf(node) {
  if (node.name) return node.name.getText();
  return ts.isVariableDeclaration(node.parent) ? node.parent.name.getText() : '(anonymous)';
}

const found = [];
for (const file of (positionals.length > 0 ? positionals : ['src']).flatMap(tsFiles)) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ lines: last - first + 1, where: `${file}:${first + 1}`, name: nameOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
found.sort((a, b) => b.lines - a.lines);
for (const { lines, where, name } of found.slice(0, Number(values.top))) {
  console.log(`${String(lines).padStart(4)}  ${where}  ${name}`);
}
