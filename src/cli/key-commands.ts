// `facegate keys rotate-template-key`: re-encrypts face templates and the sealed private signing
// keys under the configured current data key, while the gateway keeps serving. Audited.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { createAudit } from '../audit/log.ts';
import type { Db } from '../db/knex.ts';
import { rotateTemplateKey } from '../registry/templates.ts';
import { createSealer, type Sealer } from '../shared/sealed.ts';
import { withDb, type Run } from './db.ts';
import { print, type OutputOptions } from './output.ts';

type SealedKeyRow = { kid: string; key_id: string; iv: string; tag: string; ciphertext: string };

/**
 * Re-seals the private signing keys (same keyring, associated data `signing-key:<kid>` as in
 * src/oidc/keys.ts) under the active data key, with the same conditional UPDATE as templates:
 * otherwise removing the old data key would leave the provider unable to load its keys.
 */
export async function resealSigningKeys(db: Db, sealer: Sealer): Promise<{ rotated: number; skipped: number; failed: string[] }> {
  const rows = await db<SealedKeyRow>('signing_keys').whereNot('key_id', sealer.activeKeyId);
  const out = { rotated: 0, skipped: 0, failed: [] as string[] };
  for (const r of rows) {
    let plain: Buffer;
    try {
      plain = sealer.open({ keyId: r.key_id, iv: r.iv, tag: r.tag, ciphertext: r.ciphertext }, `signing-key:${r.kid}`);
    } catch {
      out.failed.push(r.kid);
      continue;
    }
    const s = sealer.seal(plain, `signing-key:${r.kid}`);
    const n = await db('signing_keys').where({ kid: r.kid, key_id: r.key_id, iv: r.iv, ciphertext: r.ciphertext })
      .update({ key_id: s.keyId, iv: s.iv, tag: s.tag, ciphertext: s.ciphertext });
    if (n === 1) out.rotated++;
    else out.skipped++;
  }
  return out;
}

export function registerKeyCommands(program: Command, config: Readonly<Config>, run: Run): void {
  const keys = program.commands.find((c) => c.name() === 'keys') ?? program.command('keys').description('Keys');
  keys.command('rotate-template-key')
    .description('Re-encrypt every face template and private signing key under FACEGATE_DATA_KEY_ID (old keys must still be in FACEGATE_DATA_KEYS); safe while serving, idempotent; exit 1 if a row does not open')
    .option('--batch <n>', 'rows per batch', (v) => Math.max(1, Number.parseInt(v, 10) || 200), 200)
    .option('--json', 'JSON output')
    .action((o: OutputOptions & { batch: number }) => run(Boolean(o.json), async () => {
      const sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
      const bar = !o.json && process.stderr.isTTY
        ? new cliProgress.SingleBar({ stream: process.stderr, format: 're-encrypting {bar} {value}/{total} templates' }, cliProgress.Presets.shades_classic)
        : undefined;
      const started = Date.now();
      const summary = await withDb(config, async (db) => {
        let templates;
        try {
          templates = await rotateTemplateKey(db, sealer, { batch: o.batch, onProgress: bar && ((done, total) => (bar.isActive ? bar.update(done) : bar.start(total, done))) });
        } finally {
          bar?.stop();
        }
        const signingKeys = await resealSigningKeys(db, sealer);
        const result = { keyId: sealer.activeKeyId, templates, signingKeys, ms: Date.now() - started };
        const failed = templates.failed.length + signingKeys.failed.length;
        await createAudit(db, Date.now, config.secrets)({
          type: 'keys.template_key_rotated', outcome: failed ? 'failure' : 'success',
          details: { key_id: result.keyId, templates: { scanned: templates.scanned, rotated: templates.rotated, skipped: templates.skipped, failed: templates.failed.map((f) => f.id) }, signing_keys: signingKeys },
        });
        return result;
      });
      const { templates: t, signingKeys: k } = summary;
      print(o, summary, () => [
        `templates under ${summary.keyId}: ${t.rotated} re-encrypted, ${t.skipped} changed meanwhile (left), ${t.failed.length} failed to open`,
        `signing keys: ${k.rotated} re-sealed, ${k.skipped} changed meanwhile, ${k.failed.length} failed to open`,
        ...t.failed.map((f) => `  template ${f.id} (citizen ${f.citizenId}, key ${f.keyId}) does not open`),
        ...k.failed.map((kid) => `  signing key ${kid} does not open`),
        `${summary.ms} ms`,
      ].join('\n'));
      if (t.failed.length || k.failed.length) process.exitCode = 1;
    }));
}
