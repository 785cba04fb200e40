#!/usr/bin/env node
/**
 * `persona-emulator`: runs the Persona emulator until SIGINT or SIGTERM and prints what a
 * developer needs to point an app at it (URL, organisations, API keys, inquiry and verification ids).
 */
import { startPersonaEmulator } from './emulator.js';
import type { PersonaEmulator, PersonaEmulatorOptions } from './types.js';
import { acceptedVersions } from './versions.js';

const USAGE = `Usage: persona-emulator [options]

Runs a local Persona (OAuth authorize/token, GET /api/v1/inquiries/:id and
GET /api/v1/verifications/:id) until Ctrl-C.

Options:
  --port <n>          TCP port (default 4010; 0 picks a free one)
  --host <address>    interface to listen on (default 127.0.0.1)
  --rate-limit <n>    requests per minute for the environment (default 300)
  --code-ttl <s>      authorization code lifetime in seconds (default 600)
  --token-ttl <s>     access token lifetime in seconds (default 3600)
  --seed <text>       same organisation ids, API keys and inquiry ids on every start
  --persona-version <YYYY-MM-DD>
                      accept this Persona-Version too (repeatable); every documented
                      version is accepted already
  --enable-faults     expose the control endpoints under /__emulator/ (faults, clock, rate limit)
  --json              print the startup summary as one JSON line
  -h, --help          show this help
`;

interface CliOptions {
  emulator: PersonaEmulatorOptions & { personaVersions: string[] };
  json: boolean;
  help: boolean;
}

class UsageError extends Error {}

function integer(name: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined || !/^\d+$/.test(raw)) throw new UsageError(`${name} needs a whole number`);
  const value = Number(raw);
  if (value < min || value > max) throw new UsageError(`${name} must be from ${min} to ${max}`);
  return value;
}

function text(name: string, raw: string | undefined, what: string): string {
  if (!raw) throw new UsageError(`${name} needs ${what}`);
  return raw;
}

function versionDate(raw: string | undefined): string {
  const version = text('--persona-version', raw, 'a date');
  try {
    acceptedVersions([version]);
  } catch {
    throw new UsageError(`--persona-version needs a YYYY-MM-DD date, not ${JSON.stringify(version)}`);
  }
  return version;
}

type Flag = (result: CliOptions, value: () => string | undefined) => void;

const MAX = 1_000_000_000;
const FLAGS: Readonly<Record<string, Flag>> = {
  '-h': (r) => {
    r.help = true;
  },
  '--help': (r) => {
    r.help = true;
  },
  '--port': (r, v) => {
    r.emulator.port = integer('--port', v(), 0, 65_535);
  },
  '--host': (r, v) => {
    r.emulator.host = text('--host', v(), 'an address');
  },
  '--rate-limit': (r, v) => {
    r.emulator.rateLimit = integer('--rate-limit', v(), 1, MAX);
  },
  '--code-ttl': (r, v) => {
    r.emulator.codeTtlSeconds = integer('--code-ttl', v(), 1, MAX);
  },
  '--token-ttl': (r, v) => {
    r.emulator.tokenTtlSeconds = integer('--token-ttl', v(), 1, MAX);
  },
  '--seed': (r, v) => {
    r.emulator.seed = text('--seed', v(), 'a value');
  },
  '--persona-version': (r, v) => {
    r.emulator.personaVersions.push(versionDate(v()));
  },
  '--enable-faults': (r) => {
    r.emulator.control = true;
  },
  '--json': (r) => {
    r.json = true;
  },
};

function parseArgs(argv: readonly string[]): CliOptions {
  const result: CliOptions = {
    emulator: { port: 4010, maxRecordedRequests: 0, personaVersions: [] },
    json: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const flag = Object.hasOwn(FLAGS, name) ? FLAGS[name] : undefined;
    if (!flag) throw new UsageError(`unknown option ${arg}`);
    flag(result, () => {
      if (inline !== undefined) return inline;
      i += 1;
      return argv[i];
    });
  }
  return result;
}

function summary(emulator: PersonaEmulator, control: boolean): string {
  const lines = [
    `Persona emulator listening on ${emulator.url}`,
    `environment  ${emulator.environmentId}`,
    'organizations:',
  ];
  for (const org of emulator.organizations) {
    const role = org === emulator.owner ? 'owner' : org === emulator.recipient ? 'recipient' : 'other';
    lines.push(`  ${role.padEnd(10)} ${org.id}  ${org.name}`, `             API key: ${org.apiKey}`);
  }
  lines.push("owner's inquiries:");
  for (const inquiry of emulator.owner.inquiries) {
    lines.push(`  ${inquiry.id}  ${inquiry.status.padEnd(12)} ${inquiry.nameFirst} ${inquiry.nameLast}`);
  }
  lines.push("owner's verifications:");
  for (const verification of emulator.owner.verifications) {
    lines.push(
      `  ${verification.id}  ${verification.type.padEnd(14)} ${verification.status.padEnd(10)} of ${verification.inquiryId ?? '-'}`,
    );
  }
  lines.push(
    control
      ? `control: POST/DELETE ${emulator.url}/__emulator/faults, POST ${emulator.url}/__emulator/clock, POST ${emulator.url}/__emulator/rate-limit/reset`
      : 'control endpoints: off (start with --enable-faults to inject faults)',
    'Press Ctrl-C to stop.',
  );
  return `${lines.join('\n')}\n`;
}

function jsonSummary(emulator: PersonaEmulator, control: boolean): string {
  return `${JSON.stringify({
    url: emulator.url,
    environmentId: emulator.environmentId,
    control,
    organizations: emulator.organizations.map((org) => ({
      role: org === emulator.owner ? 'owner' : org === emulator.recipient ? 'recipient' : 'other',
      id: org.id,
      name: org.name,
      apiKey: org.apiKey,
      inquiries: org.inquiries.map((inquiry) => inquiry.id),
      verifications: org.verifications.map((verification) => verification.id),
    })),
  })}\n`;
}

async function main(argv: readonly string[]): Promise<void> {
  let options: CliOptions;
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`persona-emulator: ${error.message}\nRun persona-emulator --help for the options.\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }

  // Signal handlers go in before anything is printed: whoever reads the URL may signal at once.
  const starting = startPersonaEmulator(options.emulator);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`persona-emulator: ${signal}, shutting down\n`);
    starting
      .then(
        (emulator) => emulator.close(),
        () => undefined,
      )
      .then(
        () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.exitCode = 0;
        },
        (error: unknown) => {
          process.stderr.write(`persona-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  let emulator: PersonaEmulator;
  try {
    emulator = await starting;
  } catch (error) {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    throw error;
  }
  if (stopping) return;
  const control = options.emulator.control === true;
  process.stdout.write(options.json ? jsonSummary(emulator, control) : summary(emulator, control));
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`persona-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
