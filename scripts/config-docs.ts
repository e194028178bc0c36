// Writes docs/configuration.md from the zod schema's descriptions, the defaults and the
// environment variables: the schema is the one source. `npm run docs:config`; a test checks it is current.
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { loadConfig, envMap } from '../config/load.ts';
import { configSchema } from '../config/schema.ts';

type Node = { type?: string; description?: string; properties?: Record<string, Node>; enum?: unknown[] };

/** Defaults that depend on the machine are shown by what they mean, not by this machine's value. */
const machineDefaults: Record<string, string> = {
  'biometrics.modelsDir': '`models/` in the project',
  'biometrics.workers': 'number of CPU cores',
  'server.issuer': '`http://localhost:$PORT`',
  'demo.enabled': '`true`, `false` when NODE_ENV=production',
};
const devSecret = 'a public development value, refused when NODE_ENV=production';

export function renderConfigDocs(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Node;
  const defaults = loadConfig({}) as unknown as Record<string, unknown>;
  const envFor = Object.fromEntries(Object.entries(envMap).map(([name, { path }]) => [path.join('.'), name]));
  const rows: string[] = [];
  const walk = (node: Node, path: string[], value: unknown) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const p = [...path, key];
      const v = (value as Record<string, unknown> | undefined)?.[key];
      if (child.properties && p[0] !== 'secrets') {
        walk(child, p, v);
        continue;
      }
      const name = p.join('.');
      const shown = machineDefaults[name] ?? (p[0] === 'secrets' ? devSecret : `\`${JSON.stringify(v)}\``);
      rows.push(`| \`${name}\` | ${envFor[name] ? `\`${envFor[name]}\`` : ''} | ${shown} | ${(child.description ?? '').replace(/\|/g, '\\|')} |`);
    }
  };
  walk(schema, [], defaults);
  return [
    '# Configuration',
    '',
    'Generated from `config/schema.ts` by `npm run docs:config`; do not edit by hand.',
    '',
    'Settings are read once at start: the defaults in `config/defaults.ts`, then a JSON file named by',
    '`FACEGATE_CONFIG` (same shape as the table\'s paths), then the environment variables below. The',
    'result is validated; an invalid value stops the process with `invalid_config` naming the setting.',
    '',
    '| setting | environment | default | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigDocs());
}
