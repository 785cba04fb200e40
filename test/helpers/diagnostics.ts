import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { EXCHANGE_CHANNEL, type ExchangeReport } from '../../src/index.js';

/**
 * Turns on the strategy's DEBUG log and copies every stderr write into `lines` (still writing it
 * through). Returns the function that puts stderr and DEBUG back as they were.
 */
export function captureDebugLog(lines: string[]): () => void {
  const originalWrite = process.stderr.write;
  const write = originalWrite.bind(process.stderr);
  const originalDebug = process.env.DEBUG;
  process.env.DEBUG = 'passport-withpersona';
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(String(chunk));
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  return () => {
    process.stderr.write = originalWrite;
    if (originalDebug === undefined) delete process.env.DEBUG;
    else process.env.DEBUG = originalDebug;
  };
}

/**
 * Runs `run` while listening on {@link EXCHANGE_CHANNEL}, and gives back what `run` returned with
 * the reports published meanwhile. The listener is removed even when `run` throws.
 */
export async function collectReports<T>(run: () => Promise<T>): Promise<{ result: T; reports: ExchangeReport[] }> {
  const reports: ExchangeReport[] = [];
  const onReport = (message: unknown): void => void reports.push(message as ExchangeReport);
  subscribe(EXCHANGE_CHANNEL, onReport);
  try {
    const result = await run();
    return { result, reports };
  } finally {
    unsubscribe(EXCHANGE_CHANNEL, onReport);
  }
}
