// Loads the configuration once: defaults, then an optional JSON file (FACEGATE_CONFIG), then the
// environment; validates with the schema and freezes. The only module that reads process.env.
import { readFileSync } from 'node:fs';
import { AppError } from '../src/shared/errors.ts';
import { configSchema, type Config } from './schema.ts';
import { defaults } from './defaults.ts';

type Env = Record<string, string | undefined>;
type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isTree(value) && isTree(out[key]) ? merge(out[key] as Tree, value) : value;
  }
  return out;
}

/** Environment variables and the setting each overrides. */
export const envMap: Record<string, { path: string[]; parse: (v: string) => unknown }> = {
  NODE_ENV: { path: ['env'], parse: String },
  FACEGATE_MODELS_DIR: { path: ['biometrics', 'modelsDir'], parse: String },
  FACEGATE_WORKERS: { path: ['biometrics', 'workers'], parse: Number },
  FACEGATE_MAX_IMAGE_BYTES: { path: ['biometrics', 'image', 'maxBytes'], parse: Number },
  FACEGATE_MAX_IMAGE_PIXELS: { path: ['biometrics', 'image', 'maxPixels'], parse: Number },
  FACEGATE_LIVENESS_THRESHOLD: { path: ['biometrics', 'liveness', 'threshold'], parse: Number },
  FACEGATE_MATCH_SUBSTANTIAL: { path: ['biometrics', 'match', 'substantial'], parse: Number },
  FACEGATE_MATCH_HIGH: { path: ['biometrics', 'match', 'high'], parse: Number },
};

function fromEnv(env: Env): Tree {
  let out: Tree = {};
  for (const [name, { path, parse }] of Object.entries(envMap)) {
    const raw = env[name];
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
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('invalid_config', `invalid configuration: ${issues}`, { issues: parsed.error.issues });
  }
  return deepFreeze(parsed.data);
}
