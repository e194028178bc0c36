// `npm run bench:cluster`: load through the local cluster's load balancer (`npm run cluster`):
// complete sign-ins with real frames and their token requests, at a concurrency that saturates the
// cores, with optional faults during the load and a memory soak.
//
//   npm run cluster                                          (one terminal)
//   npm run bench:cluster -- --duration 60 --concurrency 16  (another)
//   npm run bench:cluster -- --start-cluster --duration 60   (both: starts the cluster, stops it after)
//   npm run bench:cluster -- --faults --duration 120         (kill -9 an instance, PostgreSQL connections
//                                                             terminated, Redis stopped and restarted, during
//                                                             the load; then a SQLite instance's disk filled)
//   npm run bench:cluster -- --duration 1800 --concurrency 3 --sample-every 30   (the soak)
//
// Each sign-in (bench/lib/signin.ts, the steps of bench/oidc.ts): PAR (PKCE S256, DPoP,
// private_key_jwt) → authorize → interaction → capture start → the streamed capture (WebSocket
// through HAProxy: consecutive frames of the shared selfie video, one every 150 ms, until the
// server decides; no head turn: the cluster runs with capture.substantial.actions 0, the video
// cannot follow prompts) → consent → token → userinfo, every request through the load balancer
// (https, the cluster's certificate). A sign-in counts only when its ID token verifies (acr
// substantial, amr face) and userinfo names the citizen. The citizen's user agent sends each
// sign-in from its own address (X-Forwarded-For as a CDN hop would write it: the cluster trusts 2
// proxy hops), so the per-IP and per-network limits stay at their production defaults.
//
// Frames: --frame-sets sets are made before the load, each frame with its own sensor noise (as
// bench/oidc.ts); once they are all used, a set is sent again with a unique JPEG comment segment
// in each frame (same pixels, new bytes: the replay store hashes bytes), because making a noisy
// frame costs as much CPU as analysing one and would take the cores from the gateway.
//
// Reported: sign-ins/s, whole sign-in p50/p95/p99, token p50/p95/p99, errors by step (and whether
// retryable), CPU per sign-in of the instances (/proc/<pid>/stat utime+stime, every thread,
// sampled each second, restarted instances included) and of HAProxy, Redis, PostgreSQL's
// backends for the cluster's database and this client; the target 2 cores × 1000 / (floor ms ×
// frames per sign-in) and the ratio; the engine floor measured in this run before the load (the
// engine in this process, its model calls on the stream's frames replayed alone: bench/engine.ts's
// method); then the audit trail checked against what the client saw (`facegate audit verify`,
// grants per sign-in, no grant twice). Last line: one JSON object.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { openDatabase, type Db } from '../src/db/knex.ts';
import { buildAgencyMetadata, registerClient } from '../src/oidc/clients.ts';
import { alive, clusterDir, projectRoot, readClusterState, type ClusterState } from '../scripts/cluster-state.ts';
import { measureFloor, openTappedEngine, videoCamera, withComment } from './lib/frames.ts';
import { connectAgency, createAgencyKeys, signIn, StepError, type Agency } from './lib/signin.ts';
import { mean, quantile, round } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '8' },
    'frame-sets': { type: 'string', default: '96' },
    seed: { type: 'string', default: '1' },
    retries: { type: 'string', default: '2' },
    'timeout-ms': { type: 'string', default: '30000' },
    'floor-rounds': { type: 'string', default: '3' },
    'sample-every': { type: 'string', default: '10' },
    'start-cluster': { type: 'boolean', default: false },
    faults: { type: 'boolean', default: false },
    'sqlite-disk': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const int = (name: string, v: string | undefined, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
  return n;
};
const DURATION_S = int('duration', args.duration, 1);
const C = int('concurrency', args.concurrency, 1);
const WARMUP = int('warmup', args.warmup, 0);
const FRAME_SETS = int('frame-sets', args['frame-sets'], 1);
const SEED = int('seed', args.seed, 0);
const RETRIES = int('retries', args.retries, 0);
const TIMEOUT_MS = int('timeout-ms', args['timeout-ms'], 1000);
const FLOOR_ROUNDS = int('floor-rounds', args['floor-rounds'], 1);
const SAMPLE_S = int('sample-every', args['sample-every'], 1);
const jsonOnly = args.json;
const FRAME_INTERVAL_MS = 150;

console.info = (...a: unknown[]) => console.error(...a);
console.log = (...a: unknown[]) => console.error(...a);
const out = (line = '') => { if (!jsonOnly) process.stdout.write(`${line}\n`); };
const progress = (line: string) => { if (!jsonOnly) process.stderr.write(`  … ${line}\n`); };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dataDir = resolve(process.env.FACEGATE_TEST_DATA ?? join(projectRoot, '..', 'shared', 'data'));

// ---------------------------------------------------------------- statistics
const pct = (values: number[]) => ({ p50: round(quantile(values, 0.5)), p95: round(quantile(values, 0.95)), p99: round(quantile(values, 0.99)), mean: round(mean(values)) });
const fmt = (v: number | null | undefined, w = 8, d = 1) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d)).padStart(w);

// ---------------------------------------------------------------- /proc
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime of a process, every thread, in ms; undefined when it is gone. */
function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Resident set size in MiB, or undefined. */
function rssMiBOf(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU of groups of processes over a window, sampled every second: each pid's time since it was
 * first seen in the window (its start-up included when it started within it), until it is gone.
 */
function cpuMeter(groups: () => Record<string, number[]>) {
  const base = new Map<number, number>();
  const last = new Map<number, { group: string; ms: number }>();
  const sample = (first: boolean) => {
    for (const [group, pids] of Object.entries(groups())) {
      for (const pid of pids) {
        const ms = cpuMsOf(pid);
        if (ms === undefined) continue;
        if (!base.has(pid)) base.set(pid, first ? ms : 0);
        last.set(pid, { group, ms });
      }
    }
  };
  sample(true);
  const timer = setInterval(() => sample(false), 1000);
  return {
    stop() {
      clearInterval(timer);
      sample(false);
      const totals: Record<string, number> = {};
      for (const [pid, { group, ms }] of last) totals[group] = (totals[group] ?? 0) + ms - (base.get(pid) ?? 0);
      return totals;
    },
  };
}

// ---------------------------------------------------------------- the cluster
function startCluster(): ChildProcess {
  progress('starting the cluster (npm run cluster); its output goes to data/cluster/logs/cluster.log');
  mkdirSync(join(clusterDir(), 'logs'), { recursive: true });
  const log = openSync(join(clusterDir(), 'logs', 'cluster.log'), 'a');
  return spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'scripts', 'cluster.ts')], { cwd: projectRoot, stdio: ['ignore', log, log], env: process.env });
}

async function waitForCluster(child?: ChildProcess): Promise<ClusterState> {
  const until = Date.now() + 300_000;
  while (Date.now() < until) {
    const s = readClusterState();
    if (s?.status === 'ready' && alive(s.pid)) return s;
    if (child && child.exitCode !== null) throw new Error(`the cluster exited (${child.exitCode}): see data/cluster/logs/cluster.log`);
    if (!child && (!s || !alive(s.pid))) throw new Error('no cluster running: start it with `npm run cluster` (or pass --start-cluster)');
    await sleep(500);
  }
  throw new Error('the cluster was not ready within 5 minutes');
}

/** Whether each instance answers /readyz 200 on its own port (plain http: probes stay on http). */
async function readiness(state: ClusterState) {
  return Promise.all(state.instances.map(async (i) => {
    const r = await fetch(`http://127.0.0.1:${i.port}/readyz`, { signal: AbortSignal.timeout(3000) }).then(async (x) => ({ status: x.status, body: await x.text() }), (e: Error) => ({ status: 0, body: e.message }));
    return { name: i.name, pid: i.pid, ready: r.status === 200, status: r.status, body: r.body.slice(0, 200) };
  }));
}

/** Waits until every instance is ready again; the seconds it took, or null after `timeoutS`. */
async function recovery(timeoutS = 180): Promise<{ seconds: number | null; notReady: string[] }> {
  const t0 = performance.now();
  let notReady: string[] = [];
  while (performance.now() - t0 < timeoutS * 1000) {
    const state = readClusterState()!;
    const r = await readiness(state);
    notReady = r.filter((x) => !x.ready).map((x) => `${x.name}: ${x.status} ${x.body}`);
    if (!notReady.length) return { seconds: round((performance.now() - t0) / 1000, 1), notReady };
    await sleep(250);
  }
  return { seconds: null, notReady };
}

const facegateCli = (state: ClusterState | { env: Record<string, string> }, cliArgs: string[]) => {
  const r = spawnSync(process.execPath, [join(projectRoot, 'bin', 'facegate'), ...cliArgs], {
    cwd: projectRoot, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...state.env },
  });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};

// ---------------------------------------------------------------- the load
type Outcome = {
  ok: boolean; firstTry: boolean; totalMs: number; tokenMs?: number; frames?: number; streams?: number;
  errors: { step: string; message: string; retryable: boolean; at: number }[];
};

/** The citizen's address for sign-in i: a network of its own (10.a.b.0/24), as a CDN hop would report it. */
const addressOf = (i: number) => `10.${(i >> 8) & 255}.${i & 255}.${1 + (i % 250)}`;

function frameSource(sets: Buffer[][], runId: string) {
  let k = 0;
  return async (): Promise<Buffer[]> => {
    const n = k++;
    // Every frame gets this run's id and its own number: the cluster's database keeps the frames
    // of earlier runs (same seed, same pixels), and the replay store would refuse them again.
    return sets[n % sets.length].map((f, j) => withComment(f, `facegate-load ${runId} ${n} ${j}`));
  };
}

/**
 * C workers each run sign-ins one after another until `until()`; a sign-in that fails with a
 * retryable error (the instance died, a 5xx from the load balancer, a dropped stream) is started
 * again from PAR up to --retries times, with new frames.
 */
async function runLoad(o: { agency: Agency; citizens: string[]; frames: () => Promise<Buffer[]>; concurrency: number; until: () => boolean; startAt: number }) {
  const outcomes: Outcome[] = [];
  let next = o.startAt;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (!o.until()) {
      const i = next++;
      const started = performance.now();
      const outcome: Outcome = { ok: false, firstTry: false, totalMs: 0, errors: [] };
      for (let attempt = 0; attempt <= RETRIES; attempt++) {
        const xff = addressOf(i * (RETRIES + 1) + attempt);
        try {
          const r = await signIn(o.agency, o.citizens[i % o.citizens.length], await o.frames(), {
            frameIntervalMs: FRAME_INTERVAL_MS, headers: { 'x-forwarded-for': xff, 'user-agent': 'facegate-bench-cluster' }, timeoutMs: TIMEOUT_MS,
            retryFrames: o.frames, streamAttempts: 2,
          });
          Object.assign(outcome, { ok: true, firstTry: attempt === 0, tokenMs: r.steps.token, frames: r.stream.acked, streams: r.streams });
          break;
        } catch (err) {
          const e = err as Error;
          const retryable = e instanceof StepError ? e.retryable : /fetch failed|ECONNRESET|ECONNREFUSED|socket hang up|aborted|timeout|503|502/i.test(e.message);
          outcome.errors.push({ step: e instanceof StepError ? e.step : 'other', message: e.message.slice(0, 300), retryable, at: (performance.now() - t0) / 1000 });
          if (!retryable) break;
          await sleep(200);
        }
      }
      outcome.totalMs = performance.now() - started;
      outcomes.push(outcome);
      // A citizen whose sign-in failed does not start the next one at once: nor does the load (else a
      // few seconds of outage become thousands of errors and say nothing of the time not served).
      if (!outcome.ok) await sleep(1000);
    }
  }));
  return { outcomes, wallMs: performance.now() - t0 };
}

/** The audit trail against what the client saw: grants of this run's agency, none twice; the chain verifies. */
async function auditCheck(db: Db, clientId: string, clientSuccesses: number, env: { env: Record<string, string> }) {
  const grants = await db('audit_events').where({ client_id: clientId, type: 'oidc.grant.success' }).select('details');
  const ids = grants.map((g: { details: string }) => (JSON.parse(g.details) as { grant_id?: string }).grant_id ?? '');
  const distinct = new Set(ids).size;
  const decided = await db('audit_events').where({ client_id: clientId, type: 'capture.decided' }).select('outcome');
  const verified = decided.filter((d: { outcome: string }) => d.outcome === 'success').length;
  const t0 = performance.now();
  const verify = facegateCli(env, ['audit', 'verify', '--json']);
  const verifyMs = performance.now() - t0;
  let verifyJson: Record<string, unknown> = {};
  try { verifyJson = JSON.parse(verify.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>; } catch { /* printed below */ }
  return {
    grantRows: grants.length, distinctGrantIds: distinct, duplicateGrants: grants.length - distinct, clientSuccesses,
    // a token answer lost on the way back leaves a grant row the client never saw: rows ≥ successes
    missingGrants: Math.max(0, clientSuccesses - grants.length), extraGrants: Math.max(0, grants.length - clientSuccesses),
    capturesDecided: decided.length, capturesVerified: verified,
    auditVerify: { exit: verify.status, ms: round(verifyMs, 0), rows: verifyJson.rows, head: verifyJson.head, error: verify.status ? (verify.stdout + verify.stderr).slice(-400) : undefined },
  };
}

function summarise(outcomes: Outcome[], wallMs: number) {
  const ok = outcomes.filter((x) => x.ok);
  const errors = outcomes.flatMap((x) => x.errors);
  const byKind = new Map<string, number>();
  for (const e of errors) {
    const key = `${e.step}${e.retryable ? ' (retryable)' : ''}: ${e.message.replace(/[A-Za-z0-9_-]{20,}/g, '…').slice(0, 140)}`;
    byKind.set(key, (byKind.get(key) ?? 0) + 1);
  }
  return {
    started: outcomes.length, ok: ok.length, firstTry: ok.filter((x) => x.firstTry).length, failed: outcomes.length - ok.length,
    errors: errors.length, errorKinds: Object.fromEntries([...byKind].sort((a, b) => b[1] - a[1]).slice(0, 12)),
    perSec: round(ok.length / (wallMs / 1000), 2), wallS: round(wallMs / 1000, 1),
    wholeMs: pct(ok.map((x) => x.totalMs)), tokenMs: pct(ok.map((x) => x.tokenMs ?? NaN).filter(Number.isFinite)),
    framesPerSignIn: round(mean(ok.map((x) => x.frames ?? NaN).filter(Number.isFinite)), 2),
    streamRetries: ok.filter((x) => (x.streams ?? 1) > 1).length,
  };
}

// ---------------------------------------------------------------- faults
type FaultRecord = { fault: string; at: number; detail: string; recoveryS: number | null; notReady?: string[] };

async function injectFaults(state: ClusterState, db: Db, t0: number, durationS: number, record: (f: FaultRecord) => void) {
  const at = (share: number) => sleep(Math.max(0, t0 + share * durationS * 1000 - performance.now()));
  const now = () => round((performance.now() - t0) / 1000, 1)!;

  await at(0.15);
  const victim = readClusterState()!.instances[1];
  process.kill(victim.pid, 'SIGKILL');
  const killedAt = now();
  progress(`fault: kill -9 ${victim.name} (pid ${victim.pid}) at ${killedAt} s`);
  await sleep(1500);
  const r1 = await recovery();
  record({ fault: 'kill -9 one instance', at: killedAt, detail: `${victim.name} pid ${victim.pid}; restarted by the cluster's supervisor as pid ${readClusterState()!.instances[1].pid}`, recoveryS: r1.seconds, notReady: r1.notReady });

  await at(0.4);
  const term = await db.raw('SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()) t');
  const termAt = now();
  const n = (term as { rows: { n: number }[] }).rows[0].n;
  progress(`fault: ${n} PostgreSQL connections terminated at ${termAt} s`);
  const r2 = await recovery();
  record({ fault: 'terminate PostgreSQL connections', at: termAt, detail: `${n} backends of ${state.databaseUrl.split('/').pop()} terminated (pg_terminate_backend)`, recoveryS: r2.seconds, notReady: r2.notReady });

  if (state.ownRedis && state.redis) {
    await at(0.65);
    const hold = join(clusterDir(), 'hold-redis');
    closeSync(openSync(hold, 'w'));
    const redisPid = readClusterState()!.redis!.pid;
    process.kill(redisPid, 'SIGTERM');
    const stopAt = now();
    progress(`fault: Redis stopped at ${stopAt} s (held down 5 s)`);
    await sleep(5000);
    const during = await readiness(readClusterState()!);
    unlinkSync(hold);
    const restartAt = now();
    await sleep(1200);
    const r3 = await recovery();
    record({
      fault: 'stop and restart Redis', at: stopAt,
      detail: `redis-server pid ${redisPid} stopped (SIGTERM), down ${round(restartAt - stopAt, 1)} s, started again by the supervisor; while down: ${during.filter((x) => !x.ready).length}/${during.length} instances not ready (${during.find((x) => !x.ready)?.body ?? 'all ready'})`,
      recoveryS: r3.seconds, notReady: r3.notReady,
    });
  }
}

/**
 * A single instance on SQLite whose volume fills up: a small tmpfs (mount -t tmpfs, as root), a
 * gateway on it (development mode on http 127.0.0.1: one process, no proxy in front, but the
 * load's X-Forwarded-For trusted for the client address, as the cluster does), sign-ins before,
 * while the disk is full, and after the filler is removed; /readyz at each stage; then the audit
 * chain and SQLite's integrity check.
 */
async function sqliteDiskFull(camera: { captures(n: number): Promise<Buffer[][]> }) {
  const mnt = '/mnt/facegate-disk-full';
  mkdirSync(mnt, { recursive: true });
  spawnSync('umount', [mnt]);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=160m', 'tmpfs', mnt], { encoding: 'utf8' });
  if (mount.status !== 0) return { skipped: `mount -t tmpfs not permitted here: ${mount.stderr.trim()}` };
  const port = 3199;
  const file = join(mnt, 'facegate.sqlite');
  const env: Record<string, string> = {
    NODE_ENV: 'development', PORT: String(port), HOST: '127.0.0.1', FACEGATE_ISSUER: `http://127.0.0.1:${port}`, DATABASE_URL: `sqlite:${file}`,
    FACEGATE_DEMO: 'false', FACEGATE_WORKERS: '1', FACEGATE_SUBSTANTIAL_ACTIONS: '0', FACEGATE_LOG_LEVEL: 'warn',
    // Each sign-in from its own address, as through the cluster (X-Forwarded-For, one hop): the
    // per-IP limits (30 capture starts a minute) then hold for each citizen, not for the whole load.
    FACEGATE_TRUST_PROXY: 'true', FACEGATE_PROXY_HOPS: '1',
  };
  const cli = { env };
  const report: Record<string, unknown> = { volume: `tmpfs 160 MiB at ${mnt}`, database: file };
  let gw: ChildProcess | undefined;
  let db: Db | undefined;
  try {
    if (facegateCli(cli, ['migrate']).status !== 0) throw new Error('migrate failed');
    const csv = join(clusterDir(), 'citizens.csv');
    facegateCli(cli, ['registry', 'import', '--csv', csv, '--photos', join(dataDir, 'faces'), '--operator', 'bench']);
    const ids = readFileSync(csv, 'utf8').trim().split('\n').slice(1, 9).map((l) => l.split(',')[0]);
    const log = openSync(join(clusterDir(), 'logs', 'sqlite-instance.log'), 'w');
    gw = spawn(process.execPath, [join(projectRoot, 'scripts', 'start.mjs')], { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', log, log] });
    const readyz = async () => fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) }).then(async (r) => ({ status: r.status, body: await r.text() }), (e: Error) => ({ status: 0, body: e.message }));
    for (let i = 0; i < 360 && (await readyz()).status !== 200; i++) await sleep(500);
    db = openDatabase({ url: `sqlite:${file}`, poolMax: 1 });
    const clientId = `disk-${Date.now()}`;
    const keys = await createAgencyKeys(clientId);
    await registerClient(db, buildAgencyMetadata({ clientId, name: 'Disk-full test agency', redirectUris: [keys.redirectUri], jwks: keys.jwks, scopes: ['openid', 'profile', 'national_id'] }));
    const agency = await connectAgency(env.FACEGATE_ISSUER, keys, { timeoutMs: TIMEOUT_MS });
    const sets = await camera.captures(24);
    let k = 0;
    const frames = async () => sets[k++ % sets.length].map((f, j) => withComment(f, `disk ${k} ${j} ${randomBytes(4).toString('hex')}`));
    const phase = async (name: string, seconds: number) => {
      const end = performance.now() + seconds * 1000;
      const run = await runLoad({ agency, citizens: ids, frames, concurrency: 2, until: () => performance.now() > end, startAt: 50_000 + k * 10 });
      const s = summarise(run.outcomes, run.wallMs);
      const ready = await readyz();
      report[name] = { signIns: s.started, ok: s.ok, failed: s.failed, errorKinds: s.errorKinds, readyz: `${ready.status} ${ready.body.slice(0, 240)}` };
      progress(`sqlite ${name}: ${s.ok}/${s.started} ok; /readyz ${ready.status}`);
      return s;
    };
    const before = await phase('before', 12);
    // Fill the volume: 1 MiB writes until ENOSPC.
    const filler = join(mnt, 'filler');
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(1 << 20);
    let filled = 0;
    try { for (;;) { writeSync(fd, chunk); filled++; } } catch { /* ENOSPC */ }
    try { for (;;) { writeSync(fd, chunk.subarray(0, 4096)); } } catch { /* the last pages */ }
    closeSync(fd);
    report.filledMiB = filled;
    await sleep(1500);
    const full = await phase('diskFull', 12);
    unlinkSync(filler);
    const t0 = performance.now();
    let back = await readyz();
    while (back.status !== 200 && performance.now() - t0 < 60_000) { await sleep(250); back = await readyz(); }
    report.readyAgainS = back.status === 200 ? round((performance.now() - t0) / 1000, 1) : null;
    const after = await phase('after', 12);
    gw.kill('SIGTERM');
    await new Promise((r) => gw!.once('exit', r));
    gw = undefined;
    const integrity = await db.raw('PRAGMA integrity_check');
    report.integrityCheck = (integrity as { integrity_check: string }[])[0]?.integrity_check;
    const audit = await auditCheck(db, clientId, before.ok + full.ok + after.ok, cli);
    report.audit = audit;
    return report;
  } finally {
    gw?.kill('SIGTERM');
    if (gw) await new Promise((r) => gw!.once('exit', r));
    await db?.destroy();
    spawnSync('umount', [mnt]);
  }
}

// ---------------------------------------------------------------- main
async function main() {
  const state0 = readClusterState();
  // The load balancer's certificate is the cluster's own: trust it by re-running this script with
  // NODE_EXTRA_CA_CERTS (read by Node at start, for fetch and the WebSocket alike).
  if (!process.env.FACEGATE_BENCH_CLUSTER_CHILD) {
    let cluster: ChildProcess | undefined;
    if (args['start-cluster']) {
      if (state0 && alive(state0.pid) && state0.status !== 'stopped') throw new Error(`a cluster is already running (pid ${state0.pid}): drop --start-cluster`);
      cluster = startCluster();
    }
    try {
      const state = await waitForCluster(cluster);
      const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
        stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: state.caFile, FACEGATE_BENCH_CLUSTER_CHILD: '1' },
      });
      process.exitCode = await new Promise<number>((r) => child.once('exit', (code) => r(code ?? 1)));
    } finally {
      if (cluster) {
        progress('stopping the cluster');
        cluster.kill('SIGTERM');
        await new Promise((r) => cluster!.once('exit', r));
      }
    }
    return;
  }

  const began = performance.now();
  const state = await waitForCluster();
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadavg: loadavg().map((v) => round(v, 2)) };
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const clientId = `load-${runId}`;
  out('Facegate cluster benchmark (one run through the load balancer)');
  out(`machine   ${machine.cpu}, ${machine.cores} cores, load average ${machine.loadavg.join(' ')} at the start`);
  out(`cluster   ${state.url}: ${state.instances.length} instances (${state.workersPerInstance} face worker each), HAProxy round robin, PostgreSQL ${state.databaseUrl}, Redis ${state.redisUrl}`);
  out(`settings  --duration ${DURATION_S} --concurrency ${C} --warmup ${WARMUP} --frame-sets ${FRAME_SETS} --retries ${RETRIES} --seed ${SEED}${args.faults ? ' --faults' : ''}`);
  if (state.substantialActions !== 0) throw new Error(`the cluster asks a head turn at substantial (capture.substantial.actions ${state.substantialActions}); the load's video cannot follow prompts: start it with --substantial-actions 0 (the default)`);

  // 1. The engine floor, in this process, before the load (the cluster idle).
  const config = loadConfig({ NODE_ENV: 'test' });
  progress('engine in this process: the video analysed, then the floor on the stream\'s frames');
  const tapped = await openTappedEngine(config.biometrics);
  const camera = await videoCamera((b) => tapped.engine.analyze(b, { grade: 'capture' }), { dataDir, seed: SEED });
  const floorFrames = (await camera.captures(3)).flat();
  const floor = await measureFloor(tapped, floorFrames, FLOOR_ROUNDS);
  out(`floor     raw ONNX ${floor.floorMs.toFixed(1)} ms per frame (${floor.callsPerFrame.toFixed(1)} model calls, ${floor.samples} replays of ${floorFrames.length} stream frames, one thread, this process, before the load); whole engine ${floor.engineMs.toFixed(1)} ms`);

  // 2. The agency of this run, registered in the cluster's database; frames made before the load.
  const db = openDatabase({ url: state.databaseUrl, poolMax: 2 });
  const keys = await createAgencyKeys(clientId);
  await registerClient(db, buildAgencyMetadata({ clientId, name: `Load agency ${runId}`, redirectUris: [keys.redirectUri], jwks: keys.jwks, scopes: ['openid', 'profile', 'national_id'] }));
  const agency = await connectAgency(state.url, keys, { timeoutMs: TIMEOUT_MS });
  progress(`${FRAME_SETS} frame sets of ${camera.perCapture} (sensor noise sigma ${camera.sigma})`);
  const sets = await camera.captures(FRAME_SETS);
  const frames = frameSource(sets, runId);
  out(`frames    ${camera.size}, ${camera.windows} windows of ${camera.perCapture} frames ${camera.step} apart that all pass capture quality; ${FRAME_SETS} sets with their own noise, then reused with a unique JPEG comment (new bytes)`);

  let warmOk = 0;
  if (WARMUP) {
    progress(`warm-up: ${WARMUP} sign-ins`);
    let w = 0;
    const warm = await runLoad({ agency, citizens: state.citizens, frames, concurrency: Math.min(C, WARMUP), until: () => w++ >= WARMUP, startAt: 0 });
    const ws = summarise(warm.outcomes, warm.wallMs);
    if (!ws.ok) throw new Error(`warm-up: no sign-in completed: ${JSON.stringify(ws.errorKinds)}`);
    warmOk = ws.ok;
  }

  // 3. The load (and the faults), CPU and memory sampled.
  const pgPids = async () => ((await db.raw('SELECT pid FROM pg_stat_activity WHERE datname = current_database()').catch(() => ({ rows: [] }))) as { rows: { pid: number }[] }).rows.map((r) => r.pid);
  let backends: number[] = await pgPids();
  const backendTimer = setInterval(() => { void pgPids().then((p) => { backends = p; }); }, 1000);
  const meter = cpuMeter(() => {
    const s = readClusterState() ?? state;
    return { instances: s.instances.map((i) => i.pid), haproxy: s.haproxy ? [s.haproxy.pid] : [], redis: s.redis ? [s.redis.pid] : [], postgres: backends, client: [process.pid] };
  });
  const memory: { t: number; rss: Record<string, number | null> }[] = [];
  const sampleMemory = () => {
    const s = readClusterState() ?? state;
    memory.push({ t: round((performance.now() - loadStart) / 1000, 0)!, rss: Object.fromEntries(s.instances.map((i) => [`${i.name}#${i.restarts}`, round(rssMiBOf(i.pid) ?? NaN, 1)])) });
  };
  const loadStart = performance.now();
  sampleMemory();
  const memTimer = setInterval(sampleMemory, SAMPLE_S * 1000);
  const faults: FaultRecord[] = [];
  const end = loadStart + DURATION_S * 1000;
  progress(`load: ${DURATION_S} s at concurrency ${C}${args.faults ? ', with faults' : ''}`);
  const [run] = await Promise.all([
    runLoad({ agency, citizens: state.citizens, frames, concurrency: C, until: () => performance.now() > end, startAt: 1000 }),
    args.faults ? injectFaults(state, db, loadStart, DURATION_S, (f) => faults.push(f)) : Promise.resolve(),
  ]);
  clearInterval(memTimer);
  sampleMemory();
  clearInterval(backendTimer);
  const cpu = meter.stop();
  const s = summarise(run.outcomes, run.wallMs);
  const perSignIn = (ms: number | undefined) => round((ms ?? 0) / Math.max(1, s.ok), 0);
  const target = (machine.cores * 1000) / (floor.floorMs * (s.framesPerSignIn ?? NaN));
  const ratio = s.perSec !== null ? s.perSec / target : NaN;
  const loadEnd = loadavg().map((v) => round(v, 2));

  out();
  out(`1. Sign-ins through the load balancer (${s.wallS} s at concurrency ${C})`);
  out(`   ${s.ok}/${s.started} completed with a valid ID token and userinfo (${s.firstTry} on the first try, ${s.ok - s.firstTry} after a retry; ${s.streamRetries} with a second stream), ${s.failed} failed; ${s.errors} errors seen`);
  out(`   → ${fmt(s.perSec, 0, 2)} sign-ins/s; whole sign-in p50 ${fmt(s.wholeMs.p50, 0, 0)} ms, p95 ${fmt(s.wholeMs.p95, 0, 0)} ms, p99 ${fmt(s.wholeMs.p99, 0, 0)} ms; token p50 ${fmt(s.tokenMs.p50, 0)} ms, p95 ${fmt(s.tokenMs.p95, 0)} ms, p99 ${fmt(s.tokenMs.p99, 0)} ms`);
  out(`   frames analysed per sign-in ${fmt(s.framesPerSignIn, 0, 2)} (mean acked before checking)`);
  out(`   CPU-ms per sign-in: instances ${perSignIn(cpu.instances)} (gateway + its face worker, all threads), HAProxy ${perSignIn(cpu.haproxy)}, Redis ${perSignIn(cpu.redis)}, PostgreSQL backends ${perSignIn(cpu.postgres)}, this client ${perSignIn(cpu.client)}`);
  out(`   target ${machine.cores} cores × 1000 / (${floor.floorMs.toFixed(1)} ms floor × ${fmt(s.framesPerSignIn, 0, 2)} frames) = ${target.toFixed(2)} sign-ins/s; achieved ${(100 * ratio).toFixed(0)}% of it`);
  out(`      (the client, its frames' JPEG work, HAProxy, PostgreSQL and the other work on this machine share the same ${machine.cores} cores)`);
  if (Object.keys(s.errorKinds).length) {
    out('   errors:');
    for (const [k, n] of Object.entries(s.errorKinds)) out(`     ${String(n).padStart(4)}× ${k}`);
  }
  const rssOf = (name: string) => memory.map((m) => m.rss[name]).filter((v): v is number => typeof v === 'number');
  const names = [...new Set(memory.flatMap((m) => Object.keys(m.rss)))];
  const memorySummary = Object.fromEntries(names.map((n) => {
    const v = rssOf(n);
    // Flat or growing: the median of the second third of the samples against the last third
    // (the first third is the warm-up of the heap and the allocators).
    const third = Math.floor(v.length / 3);
    const middle = third >= 2 ? quantile(v.slice(third, 2 * third), 0.5) : null;
    const end = third >= 2 ? quantile(v.slice(2 * third), 0.5) : null;
    return [n, { first: v[0] ?? null, last: v.at(-1) ?? null, max: v.length ? Math.max(...v) : null, samples: v.length, middleThird: round(middle ?? NaN, 1), lastThird: round(end ?? NaN, 1) }];
  }));
  out(`2. Memory (RSS MiB, sampled every ${SAMPLE_S} s; #n = restarts of that instance; medians of the middle and last thirds of the samples)`);
  for (const [n, m] of Object.entries(memorySummary)) out(`   ${n.padEnd(12)} first ${fmt(m.first, 7)}  last ${fmt(m.last, 7)}  max ${fmt(m.max, 7)}  middle third ${fmt(m.middleThird, 7)}  last third ${fmt(m.lastThird, 7)}  (${m.samples} samples)`);
  if (faults.length) {
    out('3. Faults during the load (recovery: every instance /readyz 200 again, no restart except the killed one)');
    for (const f of faults) out(`   at ${fmt(f.at, 5)} s  ${f.fault}: ${f.detail}; ready again after ${f.recoveryS ?? 'NOT RECOVERED'} s${f.notReady?.length ? ` (${f.notReady.join('; ')})` : ''}`);
  }
  progress('audit trail: grants of this run and audit verify');
  const audit = await auditCheck(db, clientId, s.ok + warmOk, state);
  out(`${faults.length ? 4 : 3}. Audit trail (this run's agency ${clientId})`);
  out(`   oidc.grant.success rows ${audit.grantRows} (distinct grant ids ${audit.distinctGrantIds}, duplicates ${audit.duplicateGrants}) for ${audit.clientSuccesses} sign-ins the client completed (warm-up ${warmOk} included): ${audit.missingGrants} missing; capture.decided ${audit.capturesDecided} (verified ${audit.capturesVerified})`);
  out(`   facegate audit verify: exit ${audit.auditVerify.exit}, ${String(audit.auditVerify.rows ?? '?')} rows, ${audit.auditVerify.ms} ms${audit.auditVerify.error ? `: ${audit.auditVerify.error}` : ''}`);

  let sqlite: Record<string, unknown> | undefined;
  if (args.faults || args['sqlite-disk']) {
    progress('fault: a SQLite single instance whose disk fills');
    sqlite = await sqliteDiskFull(camera).catch((e: Error) => ({ error: e.message }));
    out(`${faults.length ? 5 : 4}. SQLite single instance, disk filled: ${JSON.stringify(sqlite)}`);
  }
  await db.destroy();
  out(`load average at the end ${loadEnd.join(' ')}; finished in ${((performance.now() - began) / 1000).toFixed(0)} s`);
  const result = {
    machine: { ...machine, loadavgAtEnd: loadEnd }, cluster: { url: state.url, instances: state.instances.length, workersPerInstance: state.workersPerInstance, database: state.databaseUrl, redis: state.redisUrl },
    settings: { duration: DURATION_S, concurrency: C, warmup: WARMUP, frameSets: FRAME_SETS, retries: RETRIES, seed: SEED, faults: args.faults },
    floor: { rawMs: round(floor.floorMs, 2), engineMs: round(floor.engineMs, 2), callsPerFrame: round(floor.callsPerFrame, 1), how: 'in-process engine, model calls on the stream frames replayed alone, one thread, before the load' },
    signIns: s, cpuMsPerSignIn: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, perSignIn(v)])),
    target: { perSec: round(target, 2), formula: `${machine.cores} cores × 1000 / (floor ms × frames per sign-in)`, ratio: round(ratio, 2) },
    memoryMiB: memorySummary, faults, audit, sqliteDiskFull: sqlite,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (audit.auditVerify.exit !== 0 || audit.duplicateGrants || audit.missingGrants) process.exitCode = 1;
  if (!args.faults && s.failed) process.exitCode = 1;
}

await main();
// knex, the engine's sessions or a stray socket must not keep a finished run alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
