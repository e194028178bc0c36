// Composition of the gateway: database (migrated), signing keys, face engine pool, provider,
// capture service, routes and the koa app. Used by `npm start`, the tests and the benchmark.
import type Koa from 'koa';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import { createAudit } from '../audit/log.ts';
import { createAccountRouter } from '../account/routes.ts';
import { pruneAccount } from '../account/sessions.ts';
import { auditProviderEvents } from '../audit/provider-events.ts';
import { createEnginePool, type FaceAnalyzer } from '../biometrics/pool.ts';
import { createInteractionRouter } from '../capture/routes.ts';
import { createCaptureService } from '../capture/service.ts';
import { createStreamUpgrade } from '../capture/stream-route.ts';
import { pruneFlows } from '../capture/store.ts';
import { openDatabase, type Db } from '../db/knex.ts';
import { migrateLatest } from '../db/migrate.ts';
import { databaseReadiness } from '../db/readiness.ts';
import { createDemoAgency } from '../demo/agency.ts';
import { createDemoEnrollment } from '../demo/enroll.ts';
import { createPairwiseIdentifier, scopeClaims } from '../oidc/accounts.ts';
import { createOutboundFetch } from '../oidc/outbound.ts';
import { createOutbox, qrNotifier, webhookNotifier } from '../proof/notifiers.ts';
import { createOutboxRouter, createProofRouter, proofStreamBinding } from '../proof/routes.ts';
import { createProofOfLife } from '../proof/service.ts';
import { createHandoffRouters, handoffStreamBinding } from '../handoff/routes.ts';
import { createHandoffs } from '../handoff/service.ts';
import { pruneHandoffs } from '../handoff/store.ts';
import { pruneProofs } from '../proof/store.ts';
import { pruneExpired } from '../oidc/adapter.ts';
import { createLogoutDelivery, type LogoutDelivery } from '../oidc/backchannel-logout.ts';
import { pruneDevices } from '../risk/devices.ts';
import { createRiskKeys } from '../risk/keys.ts';
import { createAttemptLimits, pruneLimits } from '../risk/limits.ts';
import { pruneFrameHashes } from '../risk/replay.ts';
import { ensureSigningKeys, loadSigningJwks } from '../oidc/keys.ts';
import { createProvider } from '../oidc/provider.ts';
import { createOnboardingParts } from '../onboarding/parts.ts';
import { createPasskeyRouter } from '../passkeys/routes.ts';
import { createPasskeys } from '../passkeys/service.ts';
import { registerSignInGate, registerSignInStep } from '../capture/finish.ts';
import { createRemoteOnboardingGate } from '../onboarding/gate.ts';
import { createSealer } from '../shared/sealed.ts';
import { createApp } from './app.ts';
import { createCsrf } from './csrf.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';

export type Gateway = {
  app: Koa; provider: Provider; db: Db; analyzer: FaceAnalyzer; metrics: Metrics;
  /** Logout tokens to agencies: retries, and the sweep of expired sessions (run by housekeeping). */
  logouts: LogoutDelivery;
  /** For the HTTP server's 'upgrade' event: the capture streams (WebSocket). */
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Stops housekeeping and closes the pool and the database (after the HTTP server closed). */
  close(): Promise<void>;
};

export type GatewayOptions = {
  logger: Logger;
  /** An analyzer made by the caller (or its promise, still warming up); closed by close() only with ownsAnalyzer. */
  analyzer?: FaceAnalyzer | Promise<FaceAnalyzer>;
  ownsAnalyzer?: boolean;
  db?: Db;
  housekeepingMs?: number;
};

export async function createGateway(config: Readonly<Config>, options: GatewayOptions): Promise<Gateway> {
  const { logger } = options;
  // The workers load their models while the database is migrated and the keys are read.
  const ownsAnalyzer = !options.analyzer || options.ownsAnalyzer === true;
  const analyzerReady = Promise.resolve(options.analyzer ?? createEnginePool(config.biometrics));
  analyzerReady.catch(() => {}); // awaited below; its failure is thrown from there
  const db = options.db ?? openDatabase(config.database);
  let analyzer: FaceAnalyzer;
  let sealer: ReturnType<typeof createSealer>;
  let jwks: Awaited<ReturnType<typeof loadSigningJwks>>;
  try {
    const ran = await migrateLatest(db, config.database.schema);
    if (ran.length) logger.info({ migrations: ran }, 'database migrated');
    sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
    const created = await ensureSigningKeys(db, sealer);
    if (created.length) logger.info({ keys: created }, 'signing keys generated');
    jwks = await loadSigningJwks(db, sealer);
    analyzer = await analyzerReady;
  } catch (err) {
    if (ownsAnalyzer) await analyzerReady.then((a) => a.close(), () => {});
    if (!options.db) await db.destroy();
    throw err;
  }
  const metrics = createMetrics();
  const audit = createAudit(db, Date.now, config.secrets);
  // Proof of life over CIBA (src/proof/): the provider's CIBA hooks, the notifiers, the citizen's pages.
  const outbound = createOutboundFetch(config.oidc.outbound);
  const outbox = createOutbox(config.demo.enabled);
  const proof = createProofOfLife({
    db, config, audit,
    notifiers: {
      webhook: webhookNotifier({ issuer: config.server.issuer, jwks, fetch: outbound, timeoutMs: config.proof.notifyTimeoutMs }),
      qr: qrNotifier(), outbox: outbox.notifier,
    },
    pairwise: createPairwiseIdentifier(config.secrets.pairwiseSalt) as Parameters<typeof createProofOfLife>[0]['pairwise'],
    onError: (err, what) => logger.warn({ err }, `${what} failed`),
  });
  const customOutbound = config.oidc.outbound.allowPrivateNetworks || Boolean(config.oidc.outbound.caFile);
  const provider = createProvider({
    config, db, jwks, ciba: { feature: proof.cibaFeature(), requestTtl: proof.requestTtl }, ...(customOutbound ? { fetch: outbound } : {}),
  });
  proof.install(provider);
  provider.on('server_error', (_ctx, err) => logger.error({ err }, 'provider server_error'));
  auditProviderEvents(provider, audit, { scopeClaims, onError: (err, type) => logger.error({ err, type }, 'audit write failed') });
  const logouts = createLogoutDelivery(provider, db, {
    audit, retryDelaysMs: config.oidc.backchannelLogout.retryDelaysMs, onError: (err, type) => logger.error({ err, type }, 'logout delivery: audit write or agency lookup failed'),
  });
  // Attempt limits in the database, or in Redis when REDIS_URL is set: shared by every instance.
  // ioredis is loaded only then (it takes about 0.1 s of every start otherwise).
  const redis = config.risk.redisUrl
    ? new (await import('ioredis')).Redis(config.risk.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    : undefined;
  const limits = createAttemptLimits(db, config, redis);
  // Remote onboarding with an identity document (src/onboarding/): its capture's reference is the document portrait.
  const onboarding = createOnboardingParts({ db, sealer, config, audit, limits });
  // Its citizens' sign-ins carry amr remote_onboarded until an in-person check; agencies may refuse them at high.
  registerSignInGate(provider, createRemoteOnboardingGate({ db, provider, audit }));
  const capture = createCaptureService({
    db, analyzer, sealer, config, audit, limits, keys: createRiskKeys(config.secrets.pairwiseSalt),
    observe: metrics.observeDecision, observeRisk: metrics.observeRisk, references: onboarding.references,
  });
  const csrf = createCsrf(config.secrets.csrfSecret);
  const routers = [createInteractionRouter({ provider, capture, csrf, config, audit }), createProofRouter({ provider, proof, capture, csrf, config })];
  // "Finish on my phone" (src/handoff/): the desktop's code, the phone's capture for the desktop's interaction.
  const handoffs = createHandoffs({ db, sealer, config, audit, capture, codeSecret: config.secrets.csrfSecret, redis });
  routers.push(...createHandoffRouters({ db, provider, handoffs, proof, capture, csrf, config }));
  const onboardingRoutes = onboarding.enabled ? onboarding.attach(capture, csrf) : undefined;
  if (onboardingRoutes) routers.push(onboardingRoutes.router);
  // The citizen's own space at /account (src/account/): the gateway as its own relying party.
  routers.push(await createAccountRouter({ db, audit, config, sealer, csrf, onReport: metrics.observeReport }));
  // Passkeys after the face (src/passkeys/): the step finish.ts runs after a verified face, and its routes.
  const passkeys = createPasskeys({ db, audit, config, provider, registry: metrics.registry });
  if (passkeys.enabled) {
    registerSignInStep(provider, passkeys.afterFace);
    routers.push(createPasskeyRouter({ provider, passkeys, csrf, config }));
  }
  if (config.demo.enabled) {
    routers.push(createOutboxRouter(outbox.entries));
    routers.push(createDemoEnrollment({ db, analyzer, sealer, csrf, maxBytes: config.biometrics.image.maxBytes, auditSecrets: config.secrets }));
    routers.push(await createDemoAgency({ db, issuer: config.server.issuer }));
  }
  let closing = false;
  const app = createApp({
    provider, routers, logger, metrics, trustProxy: config.server.trustProxy, proxyHops: config.server.proxyHops,
    streamOrigin: new URL(config.server.issuer).origin.replace(/^http/, 'ws'),
    ...(config.env === 'production' ? { httpsOrigin: new URL(config.server.issuer).origin } : {}),
    // With REDIS_URL the attempt limits live there; while it is down they are counted in the database.
    ...(redis ? { degradable: { limits: async () => { await redis.ping(); } } } : {}),
    readiness: {
      shutdown: async () => { if (closing) throw new Error('shutting down'); },
      // The schema was migrated at start: the database must take a write (and SQLite's volume have room).
      ...databaseReadiness(db, config.database),
      // A worker answering a tiny request with a client error means the pipeline is up.
      models: async () => { await analyzer.analyze(new Uint8Array(0)).catch((e: { status?: number }) => { if (!(Number(e.status) < 500)) throw e; }); },
    },
  });
  const streams = createStreamUpgrade({ app, provider, capture, analyzer, csrf, config, logger, bindings: [proofStreamBinding({ provider, proof, csrf }), handoffStreamBinding({ provider, handoffs, proof, csrf }), ...(onboardingRoutes ? [onboardingRoutes.binding] : [])] });
  const housekeeping = setInterval(() => {
    const now = Date.now();
    // Expired sessions end apart from the other rows: their agencies are sent logout tokens.
    logouts.endExpiredSessions(now)
      .then((ended) => { if (ended) logger.debug({ sessions: ended }, 'expired sessions ended'); })
      .catch((err) => logger.warn({ err }, 'ending expired sessions failed'));
    // Proof-of-life requests past their expiry are audited, then kept a day.
    proof.sweep().then(() => pruneProofs(db, now - 86_400_000))
      .then((pruned) => { if (pruned) logger.debug({ proofs: pruned }, 'ended proof-of-life requests pruned'); })
      .catch((err) => logger.warn({ err }, 'proof-of-life housekeeping failed'));
    passkeys.prune(now).catch((err) => logger.warn({ err }, 'passkey housekeeping failed'));
    pruneAccount(db, now).catch((err) => logger.warn({ err }, 'account housekeeping failed'));
    onboarding.prune(now).catch((err) => logger.warn({ err }, 'onboarding housekeeping failed'));
    pruneHandoffs(db, now - 86_400_000).catch((err) => logger.warn({ err }, 'handoff housekeeping failed'));
    Promise.all([
      pruneExpired(db, now), pruneFlows(db, now - 3600_000), pruneFrameHashes(db, now), pruneLimits(db, now),
      pruneDevices(db, now - config.risk.deviceMemoryDays * 86_400_000),
    ])
      .then(([tokens, flows, frames, limitRows, devices]) => {
        if (tokens || flows || frames || limitRows || devices) logger.debug({ tokens, flows, frames, limits: limitRows, devices }, 'expired rows pruned');
      })
      .catch((err) => logger.warn({ err }, 'housekeeping failed'));
  }, options.housekeepingMs ?? 60_000);
  housekeeping.unref();
  return {
    app, provider, db, analyzer, metrics, logouts, upgrade: streams.handle,
    async close() {
      closing = true;
      streams.close();
      clearInterval(housekeeping);
      logouts.close();
      redis?.disconnect();
      await onboarding.close();
      if (ownsAnalyzer) await analyzer.close();
      if (!options.db) await db.destroy();
    },
  };
}
