// The JSON logger (pino). National IDs, names, addresses, tokens, cookies and images are redacted
// wherever they appear in a logged object; messages themselves never carry them.
import pino, { type Logger } from 'pino';
import type { Config } from '../../config/schema.ts';

export type { Logger };

/** Paths pino replaces with "[redacted]" (any depth listed explicitly: pino has no deep wildcard). */
export const redactPaths = [
  'nationalId', '*.nationalId', '*.*.nationalId', 'national_id', '*.national_id', '*.*.national_id',
  'givenName', '*.givenName', 'familyName', '*.familyName', 'given_name', '*.given_name', 'family_name', '*.family_name',
  'birthdate', '*.birthdate', 'address', '*.address',
  'req.headers.cookie', 'req.headers.authorization', 'req.headers.dpop', 'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]', 'frame', '*.frame', 'frames', '*.frames', 'embedding', '*.embedding',
  'secret', '*.secret', 'token', '*.token', 'access_token', 'id_token', 'client_assertion',
];

/** The process logger; `destination` lets tests capture lines. */
export function createLogger(config: Readonly<Config>, destination?: pino.DestinationStream): Logger {
  return pino({
    level: config.server.logLevel,
    base: { service: 'facegate' },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, destination);
}
