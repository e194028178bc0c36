// Loads the configuration once: defaults, then an optional JSON file (FACEGATE_CONFIG), then the
// environment; validates with the schema and freezes. The only module that reads process.env.
import { readFileSync } from 'node:fs';
import { AppError } from '../src/shared/errors.ts';
import { configSchema, type Config } from './schema.ts';
import { defaults, developmentSecrets } from './defaults.ts';

type Env = Record<string, string | undefined>;
type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Settings that are replaced as a whole, never merged key by key (a keyring is one value). */
const wholeValues = new Set(['dataKeys', 'auditKeys']);

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isTree(value) && isTree(out[key]) && !wholeValues.has(key) ? merge(out[key] as Tree, value) : value;
  }
  return out;
}

const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
const bool = (v: string) => ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
const keyring = (v: string) => Object.fromEntries(list(v).map((pair) => {
  const at = pair.indexOf(':');
  return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
}));

/**
 * Environment variables and the setting each overrides. A `secret` may also come from a file:
 * `NAME_FILE=/run/secrets/…` (the file's content, trimmed), as container platforms mount them.
 */
export const envMap: Record<string, { path: string[]; parse: (v: string) => unknown; secret?: true }> = {
  NODE_ENV: { path: ['env'], parse: String },
  PORT: { path: ['server', 'port'], parse: Number },
  HOST: { path: ['server', 'host'], parse: String },
  FACEGATE_ISSUER: { path: ['server', 'issuer'], parse: String },
  FACEGATE_TRUST_PROXY: { path: ['server', 'trustProxy'], parse: bool },
  FACEGATE_PROXY_HOPS: { path: ['server', 'proxyHops'], parse: Number },
  FACEGATE_LOG_LEVEL: { path: ['server', 'logLevel'], parse: String },
  FACEGATE_SHUTDOWN_GRACE_MS: { path: ['server', 'shutdownGraceMs'], parse: Number },
  DATABASE_URL: { path: ['database', 'url'], parse: String, secret: true },
  DATABASE_SCHEMA: { path: ['database', 'schema'], parse: String },
  FACEGATE_COOKIE_KEYS: { path: ['secrets', 'cookieKeys'], parse: list, secret: true },
  FACEGATE_DATA_KEYS: { path: ['secrets', 'dataKeys'], parse: keyring, secret: true },
  FACEGATE_DATA_KEY_ID: { path: ['secrets', 'dataKeyId'], parse: String },
  FACEGATE_DPOP_NONCE_SECRET: { path: ['secrets', 'dpopNonceSecret'], parse: String, secret: true },
  FACEGATE_PAIRWISE_SALT: { path: ['secrets', 'pairwiseSalt'], parse: String, secret: true },
  FACEGATE_CSRF_SECRET: { path: ['secrets', 'csrfSecret'], parse: String, secret: true },
  FACEGATE_AUDIT_KEYS: { path: ['secrets', 'auditKeys'], parse: keyring, secret: true },
  FACEGATE_AUDIT_KEY_ID: { path: ['secrets', 'auditKeyId'], parse: String },
  FACEGATE_OUTBOUND_CA_FILE: { path: ['oidc', 'outbound', 'caFile'], parse: String },
  REDIS_URL: { path: ['risk', 'redisUrl'], parse: String, secret: true },
  FACEGATE_LOCKOUT_MAX_FAILURES: { path: ['risk', 'lockout', 'maxFailures'], parse: Number },
  FACEGATE_LOCKOUT_SECONDS: { path: ['risk', 'lockout', 'baseSeconds'], parse: Number },
  FACEGATE_LOCKOUT_MAX_FAILURES_ANY_NETWORK: { path: ['risk', 'lockout', 'maxFailuresAnyNetwork'], parse: Number },
  FACEGATE_TRUST_FRAMEWORK: { path: ['oidc', 'trustFramework'], parse: String },
  FACEGATE_DEMO: { path: ['demo', 'enabled'], parse: bool },
  FACEGATE_ACCOUNT_INTERNAL_URL: { path: ['account', 'internalUrl'], parse: String },
  FACEGATE_MODELS_DIR: { path: ['biometrics', 'modelsDir'], parse: String },
  FACEGATE_WORKERS: { path: ['biometrics', 'workers'], parse: Number },
  FACEGATE_MAX_IMAGE_BYTES: { path: ['biometrics', 'image', 'maxBytes'], parse: Number },
  FACEGATE_MAX_IMAGE_PIXELS: { path: ['biometrics', 'image', 'maxPixels'], parse: Number },
  FACEGATE_LIVENESS_THRESHOLD: { path: ['biometrics', 'liveness', 'threshold'], parse: Number },
  FACEGATE_MATCH_SUBSTANTIAL: { path: ['biometrics', 'match', 'substantial'], parse: Number },
  FACEGATE_MATCH_HIGH: { path: ['biometrics', 'match', 'high'], parse: Number },
  FACEGATE_MATCH_ADAPTIVE: { path: ['biometrics', 'match', 'adaptive', 'enabled'], parse: bool },
  FACEGATE_SUBSTANTIAL_ACTIONS: { path: ['capture', 'substantial', 'actions'], parse: Number },
};

function fromEnv(env: Env): Tree {
  let out: Tree = {};
  for (const [name, { path, parse }] of Object.entries(envMap)) {
    const file = envMap[name].secret ? env[`${name}_FILE`] : undefined;
    const raw = file ? readFileSync(file, 'utf8').trim() : env[name];
    if (raw === undefined || raw === '') continue;
    const leaf = path.reduceRight<unknown>((acc, key) => ({ [key]: acc }), parse(raw));
    out = merge(out, leaf as Tree);
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (isTree(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Parses the configuration from defaults, an optional file and the environment. */
export function loadConfig(env: Env = process.env, overrides: Tree = {}): Readonly<Config> {
  const file = env.FACEGATE_CONFIG ? JSON.parse(readFileSync(env.FACEGATE_CONFIG, 'utf8')) as Tree : {};
  const merged = merge(merge(merge(defaults as Tree, file), fromEnv(env)), overrides);
  const production = (merged.env ?? 'development') === 'production';
  const derived = merge({ demo: { enabled: !production } }, merged);
  const parsed = configSchema.safeParse(derived);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('invalid_config', `invalid configuration: ${issues}`, { issues: parsed.error.issues });
  }
  const config = parsed.data as Config;
  config.server.issuer = (config.server.issuer ?? `http://localhost:${config.server.port}`).replace(/\/$/, '');
  checkSecrets(config);
  return deepFreeze(config);
}

function fail(message: string): never {
  throw new AppError('invalid_config', `invalid configuration: ${message}`);
}

/** The secrets that still hold a public development value (any of them, in a keyring). */
export function developmentSecretsInUse(secrets: Readonly<Config['secrets']>): string[] {
  const dev = developmentSecrets;
  return [
    secrets.cookieKeys.some((k) => dev.cookieKeys.includes(k)) && 'cookieKeys',
    Object.values(secrets.dataKeys).some((k) => Object.values(dev.dataKeys).includes(k)) && 'dataKeys',
    secrets.dpopNonceSecret === dev.dpopNonceSecret && 'dpopNonceSecret',
    secrets.pairwiseSalt === dev.pairwiseSalt && 'pairwiseSalt',
    secrets.csrfSecret === dev.csrfSecret && 'csrfSecret',
    Object.values(secrets.auditKeys).some((k) => Object.values(dev.auditKeys).includes(k)) && 'auditKeys',
  ].filter((r): r is string => Boolean(r));
}

/** Keys must decode to the right length; production refuses every development value. */
function checkSecrets(config: Config): void {
  const { secrets } = config;
  for (const [id, key] of Object.entries(secrets.dataKeys)) {
    if (Buffer.from(key, 'base64').length !== 32) fail(`secrets.dataKeys.${id}: must be 32 bytes, base64`);
  }
  if (!(secrets.dataKeyId in secrets.dataKeys)) fail(`secrets.dataKeyId: no key "${secrets.dataKeyId}" in secrets.dataKeys`);
  if (Buffer.from(secrets.dpopNonceSecret, 'base64').length !== 32) fail('secrets.dpopNonceSecret: must be 32 bytes, base64');
  for (const [id, key] of Object.entries(secrets.auditKeys)) {
    if (Buffer.from(key, 'base64').length < 32) fail(`secrets.auditKeys.${id}: must be at least 32 bytes, base64`);
  }
  if (!(secrets.auditKeyId in secrets.auditKeys)) fail(`secrets.auditKeyId: no key "${secrets.auditKeyId}" in secrets.auditKeys`);
  if (config.env !== 'production') return;
  const reused = developmentSecretsInUse(secrets);
  if (reused.length) fail(`NODE_ENV=production with development secrets: ${reused.map((r) => `secrets.${r}`).join(', ')}`);
  if (!config.server.issuer.startsWith('https://')) fail('server.issuer: must be https in production');
  // The gateway speaks plain HTTP behind a TLS-terminating proxy; without trusting its X-Forwarded-Proto
  // every request looks insecure and is redirected to https or refused (https_required).
  if (!config.server.trustProxy) fail('server.trustProxy: must be true in production (FACEGATE_TRUST_PROXY=true): the gateway serves plain HTTP behind a TLS-terminating proxy, and without trusting it every request would be redirected to https or refused');
}
