// `npm start`: load the configuration once, then serve. A configuration or startup error stops
// the process with its code and no secret in the message. The face engine's workers start loading
// their models first, while this thread loads the rest of the gateway (start-up time: they overlap).
import { loadConfig } from '../config/load.ts';
import { createEnginePool } from './biometrics/pool.ts';
import { createLogger } from './server/logger.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  process.stderr.write(`facegate: ${(err as Error).message}\n`);
  process.exit(1);
}
const logger = createLogger(config);
try {
  const analyzer = createEnginePool(config.biometrics);
  analyzer.catch(() => {}); // awaited by the gateway; a failure stops the start below
  const { serve } = await import('./server/serve.ts');
  await serve(config, logger, { analyzer });
} catch (err) {
  logger.fatal({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'facegate could not start');
  process.exit(1);
}
