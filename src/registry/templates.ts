// Face templates at rest: one embedding per citizen and embedding model, sealed with AES-256-GCM
// and bound to its row. Imports knex types, shared/ and biometrics types only; never koa or oidc.
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type { ImageAnalysis } from '../biometrics/engine.ts';
import type { Manifest } from '../biometrics/models.ts';
import type { QualityResult } from '../biometrics/quality.ts';
import { AppError } from '../shared/errors.ts';
import type { Sealer } from '../shared/sealed.ts';
import type { Change, Queryable } from './citizens.ts';

/** The `face_templates` table as stored (the photo itself is never stored). */
export interface TemplateRow {
  id: string;
  citizen_id: string;
  model_id: string;
  key_id: string;
  iv: string;
  tag: string;
  ciphertext: string;
  /** JSON of a QualitySummary. */
  quality: string | null;
  created_at: number;
}

/** What is kept of an enrollment photo's quality assessment: grade, verdict and measured values. */
export interface QualitySummary {
  grade: QualityResult['grade'];
  ok: boolean;
  codes: QualityResult['codes'];
  measures: Record<string, number>;
}

/** The quality assessment without thresholds, each measure rounded to 4 significant digits. */
export function summarizeQuality(q: QualityResult): QualitySummary {
  return {
    grade: q.grade,
    ok: q.ok,
    codes: [...q.codes],
    measures: Object.fromEntries(q.measures.map((m) => [m.name, Number(m.value.toPrecision(4))])),
  };
}

// The engine reports models as "file@sha256-prefix[+bgr]" (12 hex digits); the manifest has the
// full digest. Both go through here so the id is the same however it was learnt. The input's
// channel order is part of the id: a template made from RGB input is not comparable with a BGR probe.
const idHexLength = 12;

function modelIdFrom(file: string, sha256: string, variant: string): string {
  if (!/^[0-9a-f]{12,}$/i.test(sha256)) throw new AppError('internal_error', `embedding model ${file} has no usable digest`);
  return `${basename(file).replace(/\.onnx$/, '')}:${sha256.slice(0, idHexLength).toLowerCase()}${variant}`;
}

/** The stable id of the embedding model behind an analysis, e.g. `fr_feature:87aacdfe5751+bgr`. */
export function embeddingModelId(models: ImageAnalysis['models']): string {
  const feature = models.feature;
  const at = feature?.lastIndexOf('@') ?? -1;
  if (!feature || at < 0) throw new AppError('internal_error', 'the analysis names no embedding model');
  const [sha, ...variant] = feature.slice(at + 1).split('+');
  return modelIdFrom(feature.slice(0, at), sha, variant.map((v) => `+${v}`).join(''));
}

/** The id of the embedding model the pinned manifest names (what the engine will report). */
export function embeddingModelIdFromManifest(manifest: Pick<Manifest, 'models'>): string {
  const m = manifest.models.feature;
  return modelIdFrom(m.file, m.sha256, m.channels === 'bgr' ? '+bgr' : '');
}

// Fixed little-endian layout, so templates move between machines unchanged.
function encode(embedding: ArrayLike<number>): Buffer {
  const buf = Buffer.alloc(embedding.length * 4);
  for (let i = 0; i < embedding.length; i++) buf.writeFloatLE(embedding[i], i * 4);
  return buf;
}

function decode(buf: Buffer): Float32Array {
  if (buf.length === 0 || buf.length % 4 !== 0) throw new AppError('internal_error', 'face template has an invalid length');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

/** Associated data of a template: a row copied onto another citizen or model fails to open. */
const aad = (citizenId: string, modelId: string) => `${citizenId}:${modelId}`;

function openRow(sealer: Sealer, row: TemplateRow): Float32Array {
  return decode(sealer.open({ keyId: row.key_id, iv: row.iv, tag: row.tag, ciphertext: row.ciphertext }, aad(row.citizen_id, row.model_id)));
}

/**
 * Stores (or replaces) the citizen's template for this model, sealed with the active data key.
 * Returns 'unchanged' without writing when the stored template already holds the same floats under
 * the active key; one that fails to open (altered, old key gone) is replaced.
 */
export async function saveTemplate(
  db: Queryable,
  sealer: Sealer,
  citizenId: string,
  modelId: string,
  embedding: ArrayLike<number>,
  quality: QualitySummary,
  now: number = Date.now(),
): Promise<Change> {
  if (embedding.length === 0 || !Array.prototype.every.call(embedding, Number.isFinite)) {
    throw new AppError('internal_error', 'embedding must be a non-empty array of finite numbers');
  }
  const plaintext = encode(embedding);
  const existing = await db<TemplateRow>('face_templates').where({ citizen_id: citizenId, model_id: modelId }).first();
  if (existing && existing.key_id === sealer.activeKeyId) {
    let same = false;
    try {
      same = encode(openRow(sealer, existing)).equals(plaintext);
    } catch { /* unreadable: overwrite below */ }
    if (same) return 'unchanged';
  }
  const sealed = sealer.seal(plaintext, aad(citizenId, modelId));
  const fields = { key_id: sealed.keyId, iv: sealed.iv, tag: sealed.tag, ciphertext: sealed.ciphertext, quality: JSON.stringify(quality), created_at: now };
  await db('face_templates')
    .insert({ id: randomUUID(), citizen_id: citizenId, model_id: modelId, ...fields })
    .onConflict(['citizen_id', 'model_id'])
    .merge(Object.keys(fields));
  return existing ? 'updated' : 'created';
}

/**
 * The citizen's template for this model, or undefined when there is none. Throws AppError
 * `internal_error` when the row does not open (altered, copied from another row, key missing).
 */
export async function loadTemplate(db: Queryable, sealer: Sealer, citizenId: string, modelId: string): Promise<Float32Array | undefined> {
  const row = await db<TemplateRow>('face_templates').where({ citizen_id: citizenId, model_id: modelId }).first();
  return row ? openRow(sealer, row) : undefined;
}

/** True when the citizen has a template for this model (no decryption). */
export async function hasTemplate(db: Queryable, citizenId: string, modelId: string): Promise<boolean> {
  const row = await db('face_templates').where({ citizen_id: citizenId, model_id: modelId }).first('id');
  return row !== undefined;
}

/** What a template key rotation did; `failed` rows did not open (altered, or their key is gone). */
export interface TemplateRotation {
  keyId: string;
  /** Rows found under another key. */
  scanned: number;
  rotated: number;
  /** Rows changed by someone else between read and write (re-enrolled, a concurrent run): left as they are. */
  skipped: number;
  failed: { id: string; citizenId: string; keyId: string }[];
}

/**
 * Re-encrypts every template not under the active data key with it, in batches, one pass in id
 * order. Each row is written with a conditional UPDATE (same key id, nonce and ciphertext as read),
 * so a concurrent enrollment or a second run is never overwritten; running it again finds nothing
 * left to do. Needs the old keys still in the keyring.
 */
export async function rotateTemplateKey(
  db: Queryable,
  sealer: Sealer,
  options: { batch?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<TemplateRotation> {
  const size = options.batch ?? 200;
  const pending = () => db<TemplateRow>('face_templates').whereNot('key_id', sealer.activeKeyId);
  const [{ n }] = await pending().count({ n: '*' }) as [{ n: number | string }];
  const total = Number(n);
  const result: TemplateRotation = { keyId: sealer.activeKeyId, scanned: 0, rotated: 0, skipped: 0, failed: [] };
  let after = '';
  for (;;) {
    const rows = await pending().where('id', '>', after).orderBy('id').limit(size);
    if (rows.length === 0) break;
    await db.transaction(async (trx) => {
      for (const row of rows) {
        result.scanned++;
        let plaintext: Buffer;
        try {
          plaintext = encode(openRow(sealer, row));
        } catch {
          result.failed.push({ id: row.id, citizenId: row.citizen_id, keyId: row.key_id });
          continue;
        }
        const sealed = sealer.seal(plaintext, aad(row.citizen_id, row.model_id));
        const changed = await trx('face_templates')
          .where({ id: row.id, key_id: row.key_id, iv: row.iv, ciphertext: row.ciphertext })
          .update({ key_id: sealed.keyId, iv: sealed.iv, tag: sealed.tag, ciphertext: sealed.ciphertext });
        if (changed === 1) result.rotated++;
        else result.skipped++;
      }
    });
    after = rows[rows.length - 1].id;
    options.onProgress?.(result.scanned, total);
  }
  return result;
}
