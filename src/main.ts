// `npm start`: load the configuration once, then serve. A configuration or startup error stops
// the process with its code and no secret in the message.
import { loadConfig } from '../config/load.ts';
import { createLogger } from './server/logger.ts';
import { serve } from './server/serve.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  process.stderr.write(`facegate: ${(err as Error).message}\n`);
  process.exit(1);
}
const logger = createLogger(config);
try {
  await serve(config, logger);
} catch (err) {
  logger.fatal({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'facegate could not start');
  process.exit(1);
}
