// The JSON logger (pino). National IDs, names, addresses, tokens, cookies and images are redacted
// wherever they appear in a logged object; messages themselves never carry them. A database
// error keeps its SQL statement, never the values bound to it.
import pino, { type Logger } from 'pino';
import type { Config } from '../../config/schema.ts';

export type { Logger };

/** Paths pino replaces with "[redacted]" (any depth listed explicitly: pino has no deep wildcard). */
const personal = ['nationalId', 'national_id', 'givenName', 'familyName', 'given_name', 'family_name', 'birthdate', 'address', 'frame', 'frames', 'embedding', 'secret', 'token', 'access_token', 'id_token', 'client_assertion'];

/** Paths pino replaces with "[redacted]": each personal field at the top and two levels down. */
export const redactPaths = [
  ...personal.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  'req.headers.cookie', 'req.headers.authorization', 'req.headers.dpop', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]',
  // A database error's values: knex's `bindings` (pool and query timeouts) and PostgreSQL's
  // `detail` ("Key (id)=(…) already exists", "Failing row contains (…)"). Its SQL stays, with
  // placeholders (src/db/knex.ts).
  'err.bindings', 'err.detail',
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
