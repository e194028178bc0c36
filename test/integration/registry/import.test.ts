// Registry import from a CSV and a photos folder built at test time (links to the shared photos):
// per-row outcomes and codes, bounded concurrency, a re-run that skips the face model, and one
// audit event per citizen created or changed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { verifyChain } from '../../../src/audit/query.ts';
import { readManifest } from '../../../src/biometrics/models.ts';
import { createEnginePool, type FaceAnalyzer } from '../../../src/biometrics/pool.ts';
import { importRegistry, type ImportDeps, type ImportOptions } from '../../../src/registry/import.ts';
import { embeddingModelIdFromManifest } from '../../../src/registry/templates.ts';
import { createSealer } from '../../../src/shared/sealed.ts';
import { describeWithData, facePath } from '../../helpers/data.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { config } from '../../helpers/engine.ts';

const header = 'national_id,given_name,family_name,birthdate,address,photo';
const photos: Record<string, [string, string]> = {
  'obama.jpg': ['obama', 'obama_1.jpg'],
  'obama-2.jpg': ['obama', 'obama_2.jpg'],
  'biden.jpg': ['biden', 'biden_1.jpg'],
  'rose.jpg': ['rose_leslie', 'rose_leslie_2.jpg'],
  'kit.jpg': ['kit_harington', 'kit_harington_1.jpg'],
  'lin.png': ['lin_manuel_miranda', 'lin_manuel_miranda_1.png'],
  'alex.png': ['alex_lacamoire', 'alex_lacamoire_1.png'],
  'group.jpg': ['_group', 'kit_harington_and_rose_leslie.jpg'],
};
const rows = [
  'OBAMA001,Barack,Obama,1961-08-04,"1600 Pennsylvania Ave, Washington",obama.jpg', // line 2
  'BIDEN001,Joe,Biden,1942-11-20,,biden.jpg',
  'ROSE0001,Rose,Leslie,1987-02-09,,rose.jpg',
  'KIT00001,Kit,Harington,1986-12-26,,kit.jpg',
  'LIN00001,Lin-Manuel,Miranda,1980-01-16,,lin.png',
  'ALEX0001,Alex,Lacamoire,1975-05-15,,alex.png', // line 7
  'BAD00001,Bad,Date,1990-02-30,,obama-2.jpg', // 8: not a calendar date
  'MISS0001,Missing,Photo,1970-01-01,,nope.jpg', // 9
  'obama001,Barack,Again,1961-08-04,,obama-2.jpg', // 10: duplicate of line 2 once uppercased
  'GROUP001,Two,Faces,1980-01-01,,group.jpg', // 11
  'ESC00001,Path,Escape,1980-01-01,,../registry.csv', // 12
  'AB1,Short,Id,1980-01-01,,obama-2.jpg', // 13
];

/** An analyzer that counts calls and the most calls in flight at once. */
function counting(inner: FaceAnalyzer) {
  const stats = { calls: 0, inFlight: 0, maxInFlight: 0 };
  const analyzer: FaceAnalyzer = {
    analyze: async (bytes, options) => {
      stats.calls++;
      stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
      try { return await inner.analyze(bytes, options); } finally { stats.inFlight--; }
    },
    close: () => inner.close(),
  };
  return { analyzer, stats };
}

describeWithData('importRegistry', () => {
  let tdb: TestDatabase;
  let pool: FaceAnalyzer;
  let dir: string;
  let opts: ImportOptions;
  const deps = (analyzer: FaceAnalyzer): ImportDeps => ({
    db: tdb.db, analyzer, clock: () => Date.UTC(2025, 5, 15),
    sealer: createSealer(config.secrets.dataKeys, config.secrets.dataKeyId),
    modelId: embeddingModelIdFromManifest(readManifest(config.biometrics.modelsDir)),
  });
  const timed = async (o: ImportOptions = opts) => {
    const { analyzer, stats } = counting(pool);
    const start = performance.now();
    const summary = await importRegistry(deps(analyzer), o);
    return { summary, stats, ms: performance.now() - start };
  };

  beforeAll(async () => {
    [tdb, pool] = await Promise.all([openTestDatabase(), createEnginePool(config.biometrics, 2)]);
    dir = mkdtempSync(join(tmpdir(), 'facegate-import-'));
    mkdirSync(join(dir, 'photos'));
    for (const [name, [identity, file]] of Object.entries(photos)) symlinkSync(facePath(identity, file), join(dir, 'photos', name));
    writeFileSync(join(dir, 'registry.csv'), [header, ...rows].join('\n') + '\n');
    opts = { csvPath: join(dir, 'registry.csv'), photosDir: join(dir, 'photos'), concurrency: 3, by: { actor: 'op-jane', source: 'registry import' } };
  });
  afterAll(async () => {
    await Promise.all([tdb.close(), pool.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const lastEventId = async () => Number((await tdb.db('audit_events').max({ id: 'id' }))[0].id ?? 0);
  const eventsAfter = async (id: number) => (await tdb.db('audit_events').where('id', '>', id).orderBy('id'))
    .map((e: { type: string; citizen_id: string | null; details: string | null }) => ({ type: e.type, citizenId: e.citizen_id, details: e.details && JSON.parse(e.details) }));
  const idOf = async (nationalId: string) => (await tdb.db('citizens').where({ national_id: nationalId }).first('id')).id as string;

  let firstMs = 0;
  let firstEvents: Awaited<ReturnType<typeof eventsAfter>> = [];
  it('enrolls the good rows and rejects each bad one with its code and line', async () => {
    const progress: [number, number][] = [];
    const { summary, stats, ms } = await timed({ ...opts, onProgress: (done, total) => progress.push([done, total]) });
    firstMs = ms;
    firstEvents = await eventsAfter(0);
    expect(summary).toEqual({
      total: 12, created: 6, updated: 0, unchanged: 0,
      rejected: [
        { line: 8, nationalId: 'BAD00001', code: 'invalid_citizen', message: expect.any(String) },
        { line: 9, nationalId: 'MISS0001', code: 'file_not_found', message: expect.any(String) },
        { line: 10, nationalId: 'OBAMA001', code: 'duplicate_national_id', message: 'national ID already on line 2' },
        { line: 11, nationalId: 'GROUP001', code: 'multiple_faces', message: expect.any(String) },
        { line: 12, nationalId: 'ESC00001', code: 'invalid_input', message: expect.any(String) },
        { line: 13, nationalId: 'AB1', code: 'invalid_national_id', message: expect.any(String) },
      ],
    });
    expect(stats.calls).toBe(7); // six enrolled photos and the group photo; bad rows never reach the model
    expect(stats.maxInFlight).toBeGreaterThan(1);
    expect(stats.maxInFlight).toBeLessThanOrEqual(3);
    expect(progress).toHaveLength(12);
    expect(progress.at(-1)).toEqual([12, 12]);
    const stored = await tdb.db('citizens').where({ national_id: 'OBAMA001' }).first();
    expect(stored).toMatchObject({ family_name: 'Obama', address: '1600 Pennsylvania Ave, Washington' });
    expect(Number((await tdb.db('face_templates').count({ n: '*' }))[0].n)).toBe(6);
  });

  it('audits each citizen created, with the operator, and no personal data', async () => {
    const created = ['OBAMA001', 'BIDEN001', 'ROSE0001', 'KIT00001', 'LIN00001', 'ALEX0001'];
    expect(firstEvents).toHaveLength(6);
    expect(new Set(firstEvents.map((e) => e.citizenId))).toEqual(new Set(await Promise.all(created.map(idOf))));
    for (const e of firstEvents) {
      expect(e).toMatchObject({ type: 'registry.citizen_created', details: { actor: 'op-jane', source: 'registry import', modelId: deps(pool).modelId } });
    }
    const text = JSON.stringify(await tdb.db('audit_events').select());
    for (const value of [...created, 'Barack', 'Obama', 'Pennsylvania', '1961-08-04']) expect(text).not.toContain(value);
    // Appended inside concurrent enrollment transactions: still one unbroken chain.
    expect(await verifyChain(tdb.db)).toMatchObject({ ok: true, rows: 6 });
  });

  it('re-runs as unchanged without running the face model on enrolled rows', async () => {
    const from = await lastEventId();
    const { summary, stats, ms } = await timed();
    expect(summary).toMatchObject({ total: 12, created: 0, updated: 0, unchanged: 6 });
    expect(summary.rejected.map((r) => r.code)).toEqual(['invalid_citizen', 'file_not_found', 'duplicate_national_id', 'multiple_faces', 'invalid_input', 'invalid_national_id']);
    expect(stats.calls).toBe(1); // only the rejected group photo is looked at again
    expect(ms).toBeLessThan(firstMs);
    expect(await eventsAfter(from)).toEqual([]);
  });

  it('updates a row whose record changed and re-analyzes only that one', async () => {
    const changed = rows.map((r) => r.replace('BIDEN001,Joe,Biden,1942-11-20,,', 'BIDEN001,Joseph,Biden,1942-11-20,Wilmington,'));
    writeFileSync(join(dir, 'changed.csv'), [header, ...changed].join('\n'));
    const from = await lastEventId();
    const { summary, stats } = await timed({ ...opts, csvPath: join(dir, 'changed.csv') });
    expect(summary).toMatchObject({ created: 0, updated: 1, unchanged: 5 });
    expect(stats.calls).toBe(2);
    expect(await eventsAfter(from)).toEqual([
      { type: 'registry.citizen_updated', citizenId: await idOf('BIDEN001'), details: { actor: 'op-jane', source: 'registry import', fields: ['givenName', 'address'] } },
    ]);
    expect(await tdb.db('citizens').where({ national_id: 'BIDEN001' }).first()).toMatchObject({ given_name: 'Joseph', address: 'Wilmington' });
  });

  it('re-analyzes every row with force, still unchanged when the photos are the same', async () => {
    const { summary, stats } = await timed({ ...opts, force: true, csvPath: join(dir, 'changed.csv') });
    expect(summary).toMatchObject({ created: 0, updated: 0, unchanged: 6 });
    expect(stats.calls).toBe(7);
  });

  it('refuses a photo larger than allowed without reading it', async () => {
    const { summary, stats } = await timed({ ...opts, maxPhotoBytes: 1000, force: true });
    expect(summary.rejected.filter((r) => r.code === 'image_too_large')).toHaveLength(7);
    expect(stats.calls).toBe(0);
  });

  it('fails as a whole on a header without the expected columns', async () => {
    writeFileSync(join(dir, 'bad-header.csv'), 'national_id,name,photo\nOBAMA001,Barack,obama.jpg\n');
    await expect(importRegistry(deps(pool), { ...opts, csvPath: join(dir, 'bad-header.csv') })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('fails as a whole on a CSV that breaks off in a quoted field, after the rows before it', async () => {
    writeFileSync(join(dir, 'broken.csv'), `${header}\n${rows[0]}\nKIT00001,"Kit,Harington,1986-12-26,,kit.jpg\n`);
    await expect(importRegistry(deps(pool), { ...opts, csvPath: join(dir, 'broken.csv') })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('fails as a whole with file_not_found for a missing CSV', async () => {
    await expect(importRegistry(deps(pool), { ...opts, csvPath: join(dir, 'none.csv') })).rejects.toMatchObject({ code: 'file_not_found' });
  });
});
