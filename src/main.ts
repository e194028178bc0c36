// `npm start`: load the configuration, build the gateway, listen, and shut down gracefully on
// SIGTERM/SIGINT (stop accepting, finish requests in flight, close the pool and the database).
import { createServer } from 'node:http';
import { loadConfig } from '../config/load.ts';
import { createGateway } from './server/gateway.ts';
import { createLogger } from './server/logger.ts';

const config = loadConfig();
const logger = createLogger(config);
try {
  const gateway = await createGateway(config, { logger });
  const server = createServer(gateway.app.callback());
  server.listen(config.server.port, config.server.host, () => {
    logger.info({ issuer: config.server.issuer, port: config.server.port, demo: config.demo.enabled ? `${config.server.issuer}/demo` : false }, 'facegate listening');
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => { logger.warn('grace period over; closing connections'); server.closeAllConnections(); }, config.server.shutdownGraceMs);
    force.unref();
    server.close(() => {
      gateway.close().then(() => { logger.info('stopped'); process.exit(0); }, (err) => { logger.error({ err }, 'close failed'); process.exit(1); });
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  logger.fatal({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'facegate could not start');
  process.exit(1);
}
