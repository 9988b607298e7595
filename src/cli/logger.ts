// The agent's log: pino, JSON lines on stderr (stdout belongs to --print-traces
// and --print-events output).
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination(2));
}
