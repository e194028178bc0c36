// The line the gateway logs once it listens: where the gateway, the demo agency and the
// enrollment page are, and a warning while public development secrets are in use. Config only.
import { developmentSecretsInUse } from '../../config/load.ts';
import type { Config } from '../../config/schema.ts';

/** The public URLs the gateway serves (the demo prefixes of src/demo/agency.ts and enroll.ts). */
export function startUrls(config: Readonly<Config>): { gateway: string; demo?: string; enrollment?: string } {
  const gateway = config.server.issuer;
  return config.demo.enabled ? { gateway, demo: `${gateway}/demo`, enrollment: `${gateway}/demo/enroll` } : { gateway };
}

/**
 * One human-readable line, e.g. `Facegate listening: gateway http://localhost:3000 · demo agency
 * http://localhost:3000/demo · enrollment http://localhost:3000/demo/enroll (development secrets
 * in use: not for production)`. Production refuses development secrets, so never says so there.
 */
export function startLine(config: Readonly<Config>): string {
  const urls = startUrls(config);
  const parts = [`gateway ${urls.gateway}`, urls.demo && `demo agency ${urls.demo}`, urls.enrollment && `enrollment ${urls.enrollment}`].filter(Boolean);
  const dev = config.env !== 'production' && developmentSecretsInUse(config.secrets).length > 0;
  return `Facegate listening: ${parts.join(' · ')}${dev ? ' (development secrets in use: not for production)' : ''}`;
}
