// Type-checks the sources and tests (tsconfig.json) and the sample app's JSDoc types against the
// build (example-app/tsconfig.json), with the diagnostics `tsc -p` gives for each, in one process:
//   - the two programs share the declaration files both load (Node's, Express's, undici's…),
//     parsed and bound once, as `tsc -b` shares them between projects;
//   - each program is incremental (`tsc --incremental`), its state kept under
//     node_modules/.cache/passport-withpersona/, so a run re-checks only the files a change can
//     affect; the first run, or one after `npm ci`, checks everything.
// Exits non-zero, printing the diagnostics, when either has an error.
//   node scripts/typecheck.mjs   (needs dist/: `npm run build` first)
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const ts = require('typescript');

const PROJECTS = ['tsconfig.json', 'example-app/tsconfig.json'];
const CACHE = resolve('node_modules/.cache/passport-withpersona');

/** Parsed declaration files, by module format and path, shared by both programs. */
const declarations = new Map();

/** tsc's incremental compiler host, handing out the shared copy of a declaration file. */
function hostFor(options) {
  const host = ts.createIncrementalCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersionOrOptions, onError, shouldCreateNewSourceFile) => {
    if (!ts.isDeclarationFileName(fileName)) {
      return getSourceFile(fileName, languageVersionOrOptions, onError, shouldCreateNewSourceFile);
    }
    const format = typeof languageVersionOrOptions === 'object' ? languageVersionOrOptions.impliedNodeFormat : '';
    const key = `${format}:${fileName}`;
    let file = declarations.get(key);
    if (!file || shouldCreateNewSourceFile) {
      file = getSourceFile(fileName, languageVersionOrOptions, onError, shouldCreateNewSourceFile);
      if (file) declarations.set(key, file);
    }
    return file;
  };
  return host;
}

const formatHost = {
  getCanonicalFileName: (fileName) => fileName,
  getCurrentDirectory: () => process.cwd(),
  getNewLine: () => '\n',
};

mkdirSync(CACHE, { recursive: true });
let errors = 0;
for (const project of PROJECTS) {
  const config = ts.getParsedCommandLineOfConfigFile(project, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.formatDiagnostic(diagnostic, formatHost));
    },
  });
  const tsBuildInfoFile = join(CACHE, `${project.replace(/\.json$/, '').replace(/\W+/g, '-')}.tsbuildinfo`);
  const options = { ...config.options, noEmit: true, incremental: true, tsBuildInfoFile };
  const program = ts.createIncrementalProgram({
    rootNames: config.fileNames,
    options,
    projectReferences: config.projectReferences,
    configFileParsingDiagnostics: config.errors,
    host: hostFor(options),
  });
  const diagnostics = [
    ...program.getConfigFileParsingDiagnostics(),
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSyntacticDiagnostics(),
    ...program.getSemanticDiagnostics(),
  ];
  program.emit(); // noEmit: writes only the incremental state
  if (diagnostics.length === 0) continue;
  errors += diagnostics.length;
  const format = process.stdout.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics;
  console.log(`${project}:\n${format(diagnostics, formatHost)}`);
}
if (errors > 0) {
  console.log(`${errors} type error${errors === 1 ? '' : 's'}`);
  process.exitCode = 1;
}
