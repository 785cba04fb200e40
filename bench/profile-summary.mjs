// Where a callback server's CPU went, from the profiles `node bench/run.mjs --profile DIR` writes:
// for each profile, which build of the library it ran (this checkout's, or a --variant's
// directory), and the share of its busy time (idle left out) spent in each file of the library,
// in the Node internals a call to Persona uses (timers, AbortController and its events, URL,
// randomUUID), and in the garbage collector.
//   node bench/profile-summary.mjs DIR [--functions N]   N: also the library's N costliest functions
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { functions: { type: 'string', default: '0' } },
});
const [dir] = positionals;
if (!dir) {
  console.error('usage: node bench/profile-summary.mjs DIR [--functions N]');
  process.exit(2);
}

const LIBRARY = /\/dist\/esm\/(.+\.js)$/;
const CALL_INTERNALS = /^node:(internal\/(abort_controller|event_target|timers|url|crypto\/random)|timers)$/;
const percent = (part, whole) => `${((100 * part) / whole).toFixed(1)} %`;

for (const file of readdirSync(dir)
  .filter((name) => name.endsWith('.cpuprofile'))
  .sort()) {
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  let busy = 0;
  let internals = 0;
  let gc = 0;
  let build = 'another server (no code of the library)';
  const byFile = new Map();
  const byFunction = new Map();
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id);
    const micros = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === '(idle)') return;
    busy += micros;
    if (frame.functionName === '(garbage collector)') gc += micros;
    if (CALL_INTERNALS.test(frame.url)) internals += micros;
    const own = LIBRARY.exec(frame.url);
    if (!own) return;
    build = frame.url.slice(0, frame.url.length - own[1].length - '/dist/esm/'.length).replace('file://', '');
    byFile.set(own[1], (byFile.get(own[1]) ?? 0) + micros);
    const name = `${frame.functionName || '(anonymous)'} ${own[1]}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  });
  const library = [...byFile.values()].reduce((sum, micros) => sum + micros, 0);
  console.log(`${file}: ${build}, ${(busy / 1e6).toFixed(1)} s busy`);
  console.log(
    `  library ${percent(library, busy)}, call internals ${percent(internals, busy)}, garbage collector ${percent(gc, busy)}`,
  );
  const files = [...byFile].sort((a, b) => b[1] - a[1]);
  if (files.length > 0)
    console.log(`  ${files.map(([name, micros]) => `${name} ${percent(micros, busy)}`).join(', ')}`);
  for (const [name, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.functions))) {
    console.log(`    ${percent(micros, busy).padStart(7)}  ${name}`);
  }
}
