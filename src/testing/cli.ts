#!/usr/bin/env node
/**
 * `persona-emulator`: runs the Persona emulator until SIGINT or SIGTERM and prints what a
 * developer needs to point an app at it (URL, organisations, API keys, inquiry and verification ids).
 */
import { parseArgs } from 'node:util';
import { startPersonaEmulator } from './emulator.js';
import { isVersionDate } from './settings.js';
import type { EmulatedOrganization, PersonaEmulator, PersonaEmulatorOptions } from './types.js';

/** The options, each with its value's name (none for a flag) and its line of help. */
const OPTIONS = {
  port: { type: 'string', value: '<n>', help: 'TCP port (default 4010; 0 picks a free one)' },
  host: { type: 'string', value: '<address>', help: 'interface to listen on (default 127.0.0.1)' },
  'rate-limit': { type: 'string', value: '<n>', help: 'requests per minute for the environment (default 300)' },
  'code-ttl': { type: 'string', value: '<s>', help: 'authorization code lifetime in seconds (default 600)' },
  'token-ttl': { type: 'string', value: '<s>', help: 'access token lifetime in seconds (default 3600)' },
  seed: { type: 'string', value: '<text>', help: 'same organisation ids, API keys and inquiry ids on every start' },
  'persona-version': {
    type: 'string',
    multiple: true,
    value: '<YYYY-MM-DD>',
    help: 'accept this Persona-Version besides the documented ones (repeatable)',
  },
  control: { type: 'boolean', help: 'expose the control endpoints under /__emulator/ (faults, clock, rate limit)' },
  json: { type: 'boolean', help: 'print the startup summary as one JSON line' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const;

function usage(): string {
  const lines = Object.entries(OPTIONS).map(([name, option]) => {
    const short = 'short' in option ? `-${option.short}, ` : '';
    const value = 'value' in option ? ` ${option.value}` : '';
    return `  ${`${short}--${name}${value}`.padEnd(19)} ${option.help}`;
  });
  return `Usage: persona-emulator [options]

Runs a local Persona (OAuth authorize/token, GET /api/v1/inquiries/:id and
GET /api/v1/verifications/:id) until Ctrl-C.

Options:
${lines.join('\n')}
`;
}

class UsageError extends Error {}

function integer(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} needs a whole number`);
  const value = Number(raw);
  if (value < min || value > max) throw new UsageError(`--${name} must be from ${min} to ${max}`);
  return value;
}

function text(name: string, raw: string | undefined): string | undefined {
  if (raw === '') throw new UsageError(`--${name} needs a value`);
  return raw;
}

const MAX = 1_000_000_000;

/** The command line as emulator options; throws UsageError saying what is wrong. */
function readCommandLine(argv: string[]): { emulator: PersonaEmulatorOptions; json: boolean; help: boolean } {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const versions = values['persona-version'] ?? [];
  const wrong = versions.find((version) => !isVersionDate(version));
  if (wrong !== undefined) {
    throw new UsageError(`--persona-version needs a YYYY-MM-DD date, not ${JSON.stringify(wrong)}`);
  }
  const emulator: PersonaEmulatorOptions = {
    port: integer('port', values.port, 0, 65_535) ?? 4010,
    host: text('host', values.host),
    rateLimit: integer('rate-limit', values['rate-limit'], 1, MAX),
    codeTtlSeconds: integer('code-ttl', values['code-ttl'], 1, MAX),
    tokenTtlSeconds: integer('token-ttl', values['token-ttl'], 1, MAX),
    seed: text('seed', values.seed),
    personaVersions: versions,
    control: values.control === true,
    maxRecordedRequests: 0,
  };
  return { emulator, json: values.json === true, help: values.help === true };
}

function parse(args: string[]) {
  return parseArgs({ args, strict: true, allowPositionals: false, options: OPTIONS });
}

const role = (emulator: PersonaEmulator, org: EmulatedOrganization): string =>
  org === emulator.owner ? 'owner' : org === emulator.recipient ? 'recipient' : 'other';

function summary(emulator: PersonaEmulator, control: boolean): string {
  const { url, owner } = emulator;
  const lines = [
    `Persona emulator listening on ${url}`,
    `environment  ${emulator.environmentId}`,
    'organizations:',
    ...emulator.organizations.flatMap((org) => [
      `  ${role(emulator, org).padEnd(10)} ${org.id}  ${org.name}`,
      `             API key: ${org.apiKey}`,
    ]),
    "owner's inquiries:",
    ...owner.inquiries.map(
      (inquiry) => `  ${inquiry.id}  ${inquiry.status.padEnd(12)} ${inquiry.nameFirst} ${inquiry.nameLast}`,
    ),
    "owner's verifications:",
    ...owner.verifications.map(
      ({ id, type, status, inquiryId }) => `  ${id}  ${type.padEnd(14)} ${status.padEnd(10)} of ${inquiryId ?? '-'}`,
    ),
    control
      ? `control: POST/DELETE ${url}/__emulator/faults, POST ${url}/__emulator/clock, POST ${url}/__emulator/rate-limit/reset`
      : 'control endpoints: off (start with --control to inject faults)',
    'Press Ctrl-C to stop.',
  ];
  return `${lines.join('\n')}\n`;
}

function jsonSummary(emulator: PersonaEmulator, control: boolean): string {
  return `${JSON.stringify({
    url: emulator.url,
    environmentId: emulator.environmentId,
    control,
    organizations: emulator.organizations.map((org) => ({
      role: role(emulator, org),
      id: org.id,
      name: org.name,
      apiKey: org.apiKey,
      inquiries: org.inquiries.map((inquiry) => inquiry.id),
      verifications: org.verifications.map((verification) => verification.id),
    })),
  })}\n`;
}

async function main(argv: string[]): Promise<void> {
  let options: ReturnType<typeof readCommandLine>;
  try {
    options = readCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`persona-emulator: ${error.message}\nRun persona-emulator --help for the options.\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(usage());
    return;
  }

  const emulator = await startPersonaEmulator(options.emulator);
  // Installed before the URL is printed: whoever reads it may signal at once.
  const stop = (signal: NodeJS.Signals): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.stderr.write(`persona-emulator: ${signal}, shutting down\n`);
    emulator.close().then(
      () => {
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
  const control = options.emulator.control === true;
  process.stdout.write(options.json ? jsonSummary(emulator, control) : summary(emulator, control));
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`persona-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
