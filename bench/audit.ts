// `npm run bench:audit`: the audit trail's hash chain at scale. Writes --n events (default
// 100,000) through the real writer (createAudit: one transaction per event, chain lock, hash) into
// a temporary SQLite file, and into a PostgreSQL schema of its own when one is reachable
// (FACEGATE_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; the schema is
// dropped after). Then times `audit verify`: verifyChain in this process (median of --runs,
// default 3) and the real CLI once (`./bin/facegate audit verify --json`, which adds node start-up
// and the migration check). Prints a line per step and, last, one JSON object.
// Appends on SQLite run one at a time (one connection); on PostgreSQL --concurrency writers
// (default 8) share the pool, serialised by the advisory lock as several instances would be.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import type { Config } from '../config/schema.ts';
import { createAudit, type AuditEvent } from '../src/audit/log.ts';
import { verifyChain } from '../src/audit/query.ts';
import { openDatabase, type DatabaseConnection, type Db } from '../src/db/knex.ts';
import { migrateLatest } from '../src/db/migrate.ts';

const { values } = parseArgs({ options: { n: { type: 'string' }, runs: { type: 'string' }, concurrency: { type: 'string' } } });
const n = Number(values.n ?? process.env.BENCH_AUDIT_EVENTS ?? 100_000);
const runs = Number(values.runs ?? 3);
const concurrency = Number(values.concurrency ?? 8);
const pgUrl = process.env.FACEGATE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const out = (s: string) => process.stderr.write(`${s}\n`);

// A realistic mix: capture decisions with scores and reasons, provider events, consents.
const event = (i: number): AuditEvent => {
  const ctx = { interactionUid: `uid-${i >> 3}`, clientId: ['pension-office', 'tax-office', 'city-services'][i % 3], ip: `198.51.100.${i % 250}`, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench' };
  switch (i % 4) {
    case 0: return { ...ctx, type: 'capture.started', outcome: 'info', details: { acr: 'http://eidas.europa.eu/LoA/substantial', actions: [] } };
    case 1: return { ...ctx, type: 'capture.decided', outcome: i % 5 ? 'success' : 'failure', code: i % 5 ? undefined : 'no_match', citizenId: `c-${i % 997}`, details: { checks: [{ name: 'liveness', score: 0.93, threshold: 0.5 }, { name: 'match', score: 0.7 - (i % 100) / 1000, threshold: 0.41 }], models: { feature: 'fr_feature.onnx@87aacdfe5751' }, risk: { action: 'allow', reasons: [] } } };
    case 2: return { ...ctx, type: 'consent.decided', outcome: 'success', details: { decision: 'allow', scope: 'openid profile', claims: ['sub', 'given_name'] } };
    default: return { ...ctx, type: 'oidc.grant.success', outcome: 'success', citizenId: `c-${i % 997}`, details: { grant_type: 'authorization_code', acr: 'http://eidas.europa.eu/LoA/substantial', claims: ['sub', 'given_name'] } };
  }
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(name: string, database: DatabaseConnection, writers: number) {
  const db: Db = openDatabase(database);
  try {
    await migrateLatest(db, database.schema);
    const audit = createAudit(db);
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: writers }, async () => {
      for (let i = next++; i < n; i = next++) {
        await audit(event(i));
        if (i % 20_000 === 0 && i) out(`  ${name}: ${i} events written`);
      }
    }));
    const appendMs = performance.now() - started;
    out(`${name}: ${n} events appended in ${(appendMs / 1000).toFixed(1)} s (${Math.round(n / (appendMs / 1000))}/s, ${writers} writer${writers > 1 ? 's' : ''})`);
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const v = await verifyChain(db);
      if (!v.ok || v.rows !== n) throw new Error(`${name}: verify failed: ${JSON.stringify(v)}`);
      times.push(v.ms);
    }
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: database.url };
    delete env.DATABASE_SCHEMA;
    if (database.schema) env.DATABASE_SCHEMA = database.schema;
    const cliStarted = performance.now();
    const { stdout } = await promisify(execFile)('./bin/facegate', ['audit', 'verify', '--json'], { env, maxBuffer: 1 << 20 });
    const cliMs = performance.now() - cliStarted;
    const cli = JSON.parse(stdout.trim().split('\n').pop()!) as { ok: boolean; rows: number; ms: number };
    if (!cli.ok || cli.rows !== n) throw new Error(`${name}: CLI verify failed: ${stdout}`);
    out(`${name}: verify ${n} rows: median ${median(times)} ms in process (${times.join(', ')}), CLI ${cli.ms} ms inside, ${Math.round(cliMs)} ms wall`);
    return {
      events: n, writers, appendMs: Math.round(appendMs), appendsPerSecond: Math.round(n / (appendMs / 1000)),
      verifyMs: median(times), verifyRuns: times, verifyRowsPerSecond: Math.round(n / (median(times) / 1000)), cliVerifyMs: cli.ms, cliWallMs: Math.round(cliMs),
    };
  } finally {
    await db.destroy();
  }
}

async function postgresReachable(): Promise<boolean> {
  const db = openDatabase({ url: pgUrl, poolMax: 1 });
  try {
    await Promise.race([db.raw('select 1'), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000))]);
    return true;
  } catch {
    return false;
  } finally {
    await db.destroy();
  }
}

const result: Record<string, unknown> = { n, node: process.version };
const dir = mkdtempSync(join(tmpdir(), 'facegate-bench-audit-'));
try {
  result.sqlite = await measure('sqlite', { url: `sqlite:${join(dir, 'audit.sqlite')}`, poolMax: 1 }, 1);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (await postgresReachable()) {
  const schema = `bench_audit_${randomBytes(4).toString('hex')}`;
  try {
    result.postgres = await measure('postgres', { url: pgUrl, schema, poolMax: concurrency }, concurrency);
  } finally {
    const db = openDatabase({ url: pgUrl, poolMax: 1 });
    await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await db.destroy();
  }
} else {
  out(`postgres: not reachable at ${pgUrl.replace(/\/\/[^@]*@/, '//')}; skipped`);
  result.postgres = null;
}
process.stdout.write(`${JSON.stringify(result)}\n`);
