// `facegate serve | clients add | clients list | keys rotate | keys list`: the provider's agencies
// and signing keys from the command line. Every change is written to the audit trail.
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { createAudit } from '../audit/log.ts';
import { buildAgencyMetadata, listClients, registerClient, type AgencyInput } from '../oidc/clients.ts';
import { ensureSigningKeys, listSigningKeys, rotateSigningKeys } from '../oidc/keys.ts';
import { createLogger } from '../server/logger.ts';
import { AppError } from '../shared/errors.ts';
import { createSealer } from '../shared/sealed.ts';
import { print, readInput, type OutputOptions } from './output.ts';
import { withDb, type Run } from './db.ts';


const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(/[ ,]+/).filter(Boolean)];

interface ClientsAddOptions extends OutputOptions {
  clientId: string; name: string; redirectUri: string[]; postLogoutRedirectUri?: string[]; jwks?: string; jwksUri?: string; sector?: string; scopes?: string[];
  idTokenEncryptedResponseAlg?: string; idTokenEncryptedResponseEnc?: string; userinfoEncryptedResponseAlg?: string; userinfoEncryptedResponseEnc?: string;
  backchannelLogoutUri?: string; minAcr?: string; requirePossession?: boolean; refuseRemoteOnboardedAtHigh?: boolean;
  authorizationDetailsTypes?: string[];
  ciba?: string; cibaNotificationEndpoint?: string; notifier?: string; notificationUri?: string;
}

export function registerOidcCommands(program: Command, config: Readonly<Config>, run: Run): void {
  program.command('serve')
    .description('Start the gateway (same as npm start)')
    // Imported here so that the other commands do not load the provider.
    .action(async () => (await import('../server/serve.ts')).serve(config, createLogger(config)));

  const clients = program.command('clients').description('Agencies (OIDC clients)');
  clients.command('add')
    .description('Register an agency: private_key_jwt, PAR, PKCE, DPoP, pairwise sub; prints the registered metadata')
    .requiredOption('--client-id <id>', 'client_id')
    .requiredOption('--name <name>', 'name shown to citizens on the consent page')
    .requiredOption('--redirect-uri <uri>', 'redirect URI (repeat for several, one host)', collect)
    .option('--post-logout-redirect-uri <uri>', 'where the agency may send the citizen after logout (repeat for several)', collect)
    .option('--jwks <file>', 'the agency public JWKS (JSON file)')
    .option('--jwks-uri <url>', 'where the agency publishes its JWKS (https)')
    .option('--sector <host>', 'pairwise sector (default: the redirect host)')
    .option('--scopes <list>', 'scopes the agency may ask for (openid,profile,national_id,address)', collect)
    .option('--id-token-encrypted-response-alg <alg>', 'encrypt ID tokens (and logout tokens) to the agency\'s "use": "enc" key: RSA-OAEP-256 or ECDH-ES')
    .option('--id-token-encrypted-response-enc <enc>', 'with --id-token-encrypted-response-alg: the content encryption (A256GCM, the default)')
    .option('--userinfo-encrypted-response-alg <alg>', 'userinfo as a JWT signed (PS256) then encrypted to the agency\'s "use": "enc" key: RSA-OAEP-256 or ECDH-ES')
    .option('--userinfo-encrypted-response-enc <enc>', 'with --userinfo-encrypted-response-alg: the content encryption (A256GCM, the default)')
    .option('--backchannel-logout-uri <uri>', 'where logout tokens are posted when a citizen\'s session ends (https; http only for localhost or 127.0.0.1)')
    .option('--min-acr <level>', 'the agency\'s assurance floor: substantial or high; it never receives a token below it')
    .option('--require-possession', 'the agency requires a possession factor: a passkey after the face (amr hwk or swk); face alone ends in unmet_authentication_requirements')
    .option('--refuse-remote-onboarded-at-high', 'at high, refuse citizens onboarded remotely with an identity document until an operator checked them in person (unmet_authentication_requirements)')
    .option('--authorization-details-types <list>', 'RFC 9396 authorization_details types the agency may ask for (pension_life_certificate,tax_record_access)', collect)
    .option('--ciba <mode>', 'proof of life over CIBA: poll, or ping (needs --ciba-notification-endpoint); needs --jwks-uri')
    .option('--ciba-notification-endpoint <url>', 'with --ciba ping: where the gateway pings the agency (https)')
    .option('--notifier <kind>', 'with --ciba: how the citizen is told: webhook (--notification-uri), qr (the link in the answer) or outbox (development)', 'webhook')
    .option('--notification-uri <url>', 'with --notifier webhook: where the signed proof-of-life notices are posted (https)')
    .option('--json', 'JSON output')
    .action((o: ClientsAddOptions) => run(Boolean(o.json), async () => {
      if (Boolean(o.jwks) === Boolean(o.jwksUri)) throw new AppError('invalid_client_metadata', 'give exactly one of --jwks FILE or --jwks-uri URL');
      if (!o.ciba && (o.cibaNotificationEndpoint || o.notificationUri)) throw new AppError('invalid_client_metadata', '--ciba-notification-endpoint and --notification-uri go with --ciba poll|ping');
      let jwks: object | undefined;
      if (o.jwks) {
        try {
          jwks = JSON.parse(Buffer.from(await readInput(o.jwks)).toString('utf8')) as object;
        } catch (err) {
          if ((err as { code?: string }).code === 'file_not_found') throw err;
          throw new AppError('invalid_client_metadata', `${o.jwks}: not a JSON file`);
        }
      }
      const metadata = buildAgencyMetadata({
        clientId: o.clientId, name: o.name, redirectUris: o.redirectUri, postLogoutRedirectUris: o.postLogoutRedirectUri, jwks, jwksUri: o.jwksUri, sector: o.sector, scopes: o.scopes,
        idTokenEncryptedResponseAlg: o.idTokenEncryptedResponseAlg, idTokenEncryptedResponseEnc: o.idTokenEncryptedResponseEnc,
        userinfoEncryptedResponseAlg: o.userinfoEncryptedResponseAlg, userinfoEncryptedResponseEnc: o.userinfoEncryptedResponseEnc,
        backchannelLogoutUri: o.backchannelLogoutUri, minAcr: o.minAcr, requirePossession: o.requirePossession, refuseRemoteOnboardedAtHigh: o.refuseRemoteOnboardedAtHigh,
        authorizationDetailsTypes: o.authorizationDetailsTypes,
        ...(o.ciba ? { ciba: { deliveryMode: o.ciba, clientNotificationEndpoint: o.cibaNotificationEndpoint, notifier: o.notifier, notificationUri: o.notificationUri } as NonNullable<AgencyInput['ciba']> } : {}),
      });
      await withDb(config, async (db) => {
        await registerClient(db, metadata);
        await createAudit(db, Date.now, config.secrets)({ type: 'client.registered', outcome: 'success', clientId: o.clientId, details: { scope: metadata.scope, redirect_uris: metadata.redirect_uris, post_logout_redirect_uris: metadata.post_logout_redirect_uris, authorization_details_types: metadata.authorization_details_types, id_token_encrypted_response_alg: metadata.id_token_encrypted_response_alg, userinfo_encrypted_response_alg: metadata.userinfo_encrypted_response_alg, backchannel_logout_uri: metadata.backchannel_logout_uri, facegate_min_acr: metadata.facegate_min_acr, facegate_require_possession: metadata.facegate_require_possession, facegate_refuse_remote_onboarded_at_high: metadata.facegate_refuse_remote_onboarded_at_high, backchannel_token_delivery_mode: metadata.backchannel_token_delivery_mode, facegate_notifier: metadata.facegate_notifier } });
      });
      print(o, metadata, () => JSON.stringify(metadata, null, 2));
    }));
  clients.command('list')
    .description('Registered agencies')
    .option('--json', 'JSON output')
    .action((o: OutputOptions) => run(Boolean(o.json), async () => {
      const all = await withDb(config, listClients);
      print(o, all, () => all.map((c) => `${c.client_id}\t${String(c.client_name)}\t${String(c.scope)}\t${(c.redirect_uris as string[]).join(' ')}`).join('\n') || '(none)');
    }));

  const keys = program.command('keys').description('Signing keys of the provider and the data key of templates');
  keys.command('rotate')
    .description('Promote the staged keys to signing, retire the current ones (still published), stage new ones; restart instances after')
    .option('--json', 'JSON output')
    .action((o: OutputOptions) => run(Boolean(o.json), async () => {
      const sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
      const result = await withDb(config, async (db) => {
        await ensureSigningKeys(db, sealer);
        const r = await rotateSigningKeys(db, sealer);
        await createAudit(db, Date.now, config.secrets)({ type: 'keys.rotated', outcome: 'success', details: r });
        return r;
      });
      print(o, result, () => [`promoted ${result.promoted.join(', ')}`, `retired  ${result.retired.join(', ')}`, `staged   ${result.staged.join(', ')}`, 'restart every instance to sign with the promoted keys'].join('\n'));
    }));
  keys.command('list')
    .description('Published keys and their status (active signs; next is published, signs after the next rotation; retired only verifies)')
    .option('--json', 'JSON output')
    .action((o: OutputOptions) => run(Boolean(o.json), async () => {
      const sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
      const all = await withDb(config, async (db) => { await ensureSigningKeys(db, sealer); return listSigningKeys(db); });
      print(o, all, () => all.map((k) => `${k.status.padEnd(8)}${k.alg}\t${k.kid}\t${new Date(k.createdAt).toISOString()}`).join('\n'));
    }));
}
