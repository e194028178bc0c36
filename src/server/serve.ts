// Runs the gateway as a process: build it, listen, and shut down gracefully on SIGTERM/SIGINT
// (stop accepting, let requests in flight finish within the grace period, close pool and db).
import { createServer } from 'node:http';
import type { Config } from '../../config/schema.ts';
import type { FaceAnalyzer } from '../biometrics/pool.ts';
import { createGateway } from './gateway.ts';
import type { Logger } from './logger.ts';
import { startLine, startUrls } from './start-line.ts';

/** `analyzer`: the face engine pool, when the caller started it early (it is closed with the gateway). */
export async function serve(config: Readonly<Config>, logger: Logger, options: { analyzer?: Promise<FaceAnalyzer> } = {}): Promise<void> {
  const gateway = await createGateway(config, { logger, ...(options.analyzer ? { analyzer: options.analyzer, ownsAnalyzer: true } : {}) });
  // koa's handler settles every request itself (errors included): its promise needs no one.
  const handle = gateway.app.callback();
  const server = createServer((req, res) => void handle(req, res));
  server.on('upgrade', gateway.upgrade);
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(config.server.port, config.server.host, resolve));
  const urls = startUrls(config);
  logger.info({ issuer: config.server.issuer, port: config.server.port, demo: urls.demo ?? false, enrollment: urls.enrollment ?? false }, startLine(config));
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
}
