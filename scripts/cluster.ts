// `npm run cluster`: a production-like local cluster on this machine. Three gateway instances
// (NODE_ENV=production) on 127.0.0.1 behind HAProxy (TLS at the load balancer, round robin, no
// sticky sessions, WebSocket upgrades passed, X-Forwarded-For/Proto set), on one PostgreSQL
// database of their own and a redis-server of their own, with the same secrets. Migrations run
// once before the instances start; the load's citizens are imported with `facegate registry
// import`. It supervises what it started (an instance or Redis that dies is started again, as
// systemd's Restart=always would), and stops everything on Ctrl-C / SIGTERM or `--stop`.
//
//   npm run cluster [-- --instances 3 --port 8443 --base-port 3101 --workers 1 --citizens 64
//                       --database facegate_cluster --redis-port 6390 --substantial-actions 0
//                       --proxy-hops 2 --reset]
//   npm run cluster -- --stop                      stops the running cluster
//   npm run cluster -- facegate audit verify       a facegate command with the cluster's settings
//
// State, secrets, certificate and logs: data/cluster/ (FACEGATE_CLUSTER_DIR); see
// docs/operations.md "A local cluster".
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { alive, clusterDir, projectRoot, readClusterState, statePath, type ClusterProcess, type ClusterState } from './cluster-state.ts';

const dir = clusterDir();
const say = (line: string) => process.stdout.write(`cluster: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The instances' environment: the settings every instance shares (secrets as files). */
function sharedEnv(o: Options): Record<string, string> {
  const secret = (name: string) => join(dir, 'secrets', name);
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    FACEGATE_ISSUER: `https://127.0.0.1:${o.port}`,
    FACEGATE_TRUST_PROXY: 'true',
    FACEGATE_PROXY_HOPS: String(o.proxyHops),
    FACEGATE_WORKERS: String(o.workers),
    FACEGATE_SUBSTANTIAL_ACTIONS: String(o.substantialActions),
    DATABASE_URL_FILE: secret('DATABASE_URL'),
    REDIS_URL_FILE: secret('REDIS_URL'),
    FACEGATE_COOKIE_KEYS_FILE: secret('FACEGATE_COOKIE_KEYS'),
    FACEGATE_DATA_KEYS_FILE: secret('FACEGATE_DATA_KEYS'),
    FACEGATE_DATA_KEY_ID: 'cluster1',
    FACEGATE_DPOP_NONCE_SECRET_FILE: secret('FACEGATE_DPOP_NONCE_SECRET'),
    FACEGATE_PAIRWISE_SALT_FILE: secret('FACEGATE_PAIRWISE_SALT'),
    FACEGATE_CSRF_SECRET_FILE: secret('FACEGATE_CSRF_SECRET'),
    FACEGATE_AUDIT_KEYS_FILE: secret('FACEGATE_AUDIT_KEYS'),
    FACEGATE_AUDIT_KEY_ID: 'cluster1',
  };
}

type Options = {
  instances: number; port: number; basePort: number; statsPort: number; workers: number; citizens: number;
  database: string; redisPort: number; substantialActions: number; proxyHops: number; reset: boolean;
};

/** A clean environment for a child: PATH and HOME from ours, then `extra`. */
const childEnv = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...extra });

/** Runs ./bin/facegate with the cluster's settings; returns its exit status. */
function facegate(args: string[], env: Record<string, string>, stdio: 'inherit' | 'pipe' = 'inherit') {
  const r = spawnSync(process.execPath, [join(projectRoot, 'bin', 'facegate'), ...args], { cwd: projectRoot, env: childEnv(env), stdio, encoding: 'utf8' });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

// ---------------------------------------------------------------- one-time preparation
/** Generates the cluster's secrets once (kept in data/cluster/secrets, 0600); returns whether they are new. */
function ensureSecrets(o: Options): boolean {
  const sdir = join(dir, 'secrets');
  mkdirSync(sdir, { recursive: true, mode: 0o700 });
  const b64 = (n: number) => randomBytes(n).toString('base64');
  const wanted: Record<string, () => string> = {
    FACEGATE_COOKIE_KEYS: () => b64(48),
    FACEGATE_DATA_KEYS: () => `cluster1:${b64(32)}`,
    FACEGATE_DPOP_NONCE_SECRET: () => b64(32),
    FACEGATE_PAIRWISE_SALT: () => b64(48),
    FACEGATE_CSRF_SECRET: () => b64(48),
    FACEGATE_AUDIT_KEYS: () => `cluster1:${b64(32)}`,
  };
  let created = false;
  for (const [name, make] of Object.entries(wanted)) {
    const file = join(sdir, name);
    if (existsSync(file)) continue;
    writeFileSync(file, make(), { mode: 0o600 });
    created = true;
  }
  // Not secret here (trust auth on 127.0.0.1), but a real DATABASE_URL carries a password: a file too.
  writeFileSync(join(sdir, 'DATABASE_URL'), `postgres://postgres@127.0.0.1:5432/${o.database}`, { mode: 0o600 });
  writeFileSync(join(sdir, 'REDIS_URL'), redisUrl(o), { mode: 0o600 });
  return created;
}

let ownRedis = true;
const redisUrl = (o: Options) => (ownRedis ? `redis://127.0.0.1:${o.redisPort}` : 'redis://127.0.0.1:6379/7');

/** A self-signed certificate for 127.0.0.1 and localhost (openssl), and the PEM HAProxy loads. */
function ensureCertificate(): { cert: string; pem: string } {
  const tls = join(dir, 'tls');
  mkdirSync(tls, { recursive: true, mode: 0o700 });
  const cert = join(tls, 'cert.pem');
  const key = join(tls, 'key.pem');
  const pem = join(tls, 'haproxy.pem');
  if (!existsSync(cert) || !existsSync(key)) {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '90',
      '-subj', '/CN=Facegate local cluster', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl could not make the certificate: ${r.stderr}`);
    chmodSync(key, 0o600);
    say(`self-signed certificate made: ${cert}`);
  }
  writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'), { mode: 0o600 });
  return { cert, pem };
}

/** HAProxy from Debian's package, installed with apt-get when missing. */
function ensureHaproxy(): string {
  const found = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));
  if (found) return found;
  say('HAProxy is not installed: installing Debian\'s package (apt-get install -y haproxy)');
  const r = spawnSync('sh', ['-c', 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy'], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync('/usr/sbin/haproxy')) throw new Error('apt-get could not install haproxy: install it and run again');
  return '/usr/sbin/haproxy';
}

const which = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).stdout.trim();

/** The cluster's database, created when missing (dropped first with --reset). */
async function ensureDatabase(o: Options, freshSecrets: boolean) {
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  try {
    if (o.reset) {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [o.database]);
      await admin.query(`DROP DATABASE IF EXISTS "${o.database}"`);
      say(`database ${o.database} dropped (--reset)`);
    }
    const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [o.database])).rowCount;
    if (!exists) {
      await admin.query(`CREATE DATABASE "${o.database}"`);
      say(`database ${o.database} created`);
    } else if (freshSecrets) {
      // Its signing keys and templates are sealed under data keys that are gone with the old secrets.
      const probe = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${o.database}` });
      await probe.connect();
      const table = (await probe.query("SELECT to_regclass('public.signing_keys') AS t")).rows[0].t as string | null;
      const keys = table ? ((await probe.query('SELECT count(*)::int AS n FROM signing_keys')).rows[0].n as number) : 0;
      await probe.end();
      if (keys > 0) throw new Error(`database ${o.database} holds keys sealed under other secrets (data/cluster/secrets is new): run with --reset to start it afresh`);
    }
  } finally {
    await admin.end();
  }
}

/** The CSV of the load's citizens: every one enrolled with the photo of the selfie video's person. */
function citizensCsv(o: Options, dataDir: string): { csv: string; ids: string[] } {
  const photo = 'lin_manuel_miranda/lin_manuel_miranda_1.png';
  if (!existsSync(join(dataDir, 'faces', photo))) throw new Error(`no ${photo} under ${join(dataDir, 'faces')} (set FACEGATE_TEST_DATA)`);
  const ids = Array.from({ length: o.citizens }, (_, i) => `CLUSTER${String(i + 1).padStart(5, '0')}`);
  const rows = ids.map((id, i) => `${id},Load,Citizen ${i + 1},1976-01-16,"${i + 1} Cluster Street, Capital City",${photo}`);
  const file = join(dir, 'citizens.csv');
  writeFileSync(file, ['national_id,given_name,family_name,birthdate,address,photo', ...rows].join('\n') + '\n');
  return { csv: file, ids };
}

// ---------------------------------------------------------------- processes
const portFree = (port: number) => new Promise<boolean>((resolve) => {
  const s = createConnection({ port, host: '127.0.0.1' });
  s.once('connect', () => { s.destroy(); resolve(false); });
  s.once('error', () => resolve(true));
});

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${what}: not ready after ${timeoutMs / 1000} s`);
}

const readyz = (port: number) => fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) }).then((r) => r.status === 200);

/** GET over https trusting only the cluster's certificate. */
const httpsJson = (url: string, ca: string) => new Promise<{ status: number; json: unknown }>((resolve, reject) => {
  httpsGet(url, { ca: readFileSync(ca), timeout: 5000 }, (res) => {
    let body = '';
    res.on('data', (c: Buffer) => { body += c; });
    res.on('end', () => { try { resolve({ status: res.statusCode ?? 0, json: JSON.parse(body) }); } catch (e) { reject(e as Error); } });
  }).on('error', reject);
});

type Supervised = ClusterProcess & { proc?: ChildProcess; start: () => ChildProcess; restartMs: number };

let stopping = false;
const supervised: Supervised[] = [];

/** Starts a supervised child; when it dies unasked it is started again after restartMs (held while data/cluster/hold-NAME exists). */
function launch(child: Supervised, onChange: () => void) {
  child.proc = child.start();
  child.pid = child.proc.pid ?? 0;
  child.proc.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${child.name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); starting it again in ${child.restartMs} ms`);
    setTimeout(() => {
      void (async () => {
        let held = false;
        while (!stopping && existsSync(join(dir, `hold-${child.name}`))) { held = true; await sleep(200); }
        if (stopping) return;
        if (held) say(`${child.name}: hold released`);
        child.restarts++;
        launch(child, onChange);
        say(`${child.name} started again (pid ${child.pid})`);
        onChange();
      })();
    }, child.restartMs);
  });
}

const logFd = (name: string) => openSync(join(dir, 'logs', `${name}.log`), 'a');

function haproxyConfig(o: Options, pem: string, ports: number[]): string {
  return `# Written by scripts/cluster.ts: TLS here, round robin, no stickiness, WebSocket passed.
global
  maxconn 4096
  stats socket ${join(dir, 'haproxy.sock')} mode 600 level admin
defaults
  mode http
  log stdout format raw local0 info
  option httplog
  # the client's address appended to X-Forwarded-For (server.trustProxy, proxyHops)
  option forwardfor
  # a connection an instance refuses (dead, restarting) is retried on another one; never a request it took
  option redispatch 1
  retries 3
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-request 10s
  # the capture stream (WebSocket): capture.stream.deadlineMs (30 s) and the decision
  timeout tunnel 120s
frontend facegate
  bind 127.0.0.1:${o.port} ssl crt ${pem} alpn http/1.1
  http-request set-header X-Forwarded-Proto https
  default_backend gateways
backend gateways
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  # Not ready (a dependency's blip, a slow check under load) takes an instance out of the rotation
  # for new requests only: what it is serving (a capture stream, its decision) runs to its end. A
  # dead instance's connections end by themselves.
  timeout check 3s
  default-server inter 1s fall 2 rise 2
${ports.map((p, i) => `  server g${i + 1} 127.0.0.1:${p} check`).join('\n')}
listen stats
  bind 127.0.0.1:${o.statsPort}
  stats enable
  stats uri /
  stats refresh 2s
`;
}

// ---------------------------------------------------------------- commands
async function stop() {
  const state = readClusterState(dir);
  if (!state || !alive(state.pid)) { say('no cluster running'); return; }
  process.kill(state.pid, 'SIGTERM');
  say(`stopping the cluster (pid ${state.pid})`);
  for (let i = 0; i < 150 && alive(state.pid); i++) await sleep(200);
  say(alive(state.pid) ? 'still stopping' : 'stopped');
}

async function start(o: Options) {
  const previous = readClusterState(dir);
  if (previous && alive(previous.pid) && previous.status !== 'stopped') throw new Error(`a cluster is already running (pid ${previous.pid}, ${previous.url}): npm run cluster -- --stop`);
  for (const sub of ['logs', 'redis']) mkdirSync(join(dir, sub), { recursive: true });
  const haproxy = ensureHaproxy();
  const redisServer = which('redis-server');
  ownRedis = Boolean(redisServer);
  if (!ownRedis) say('redis-server not found: using the shared Redis at 127.0.0.1:6379, database 7 (Redis faults are then skipped)');
  const fresh = ensureSecrets(o);
  const { cert, pem } = ensureCertificate();
  const ports = Array.from({ length: o.instances }, (_, i) => o.basePort + i);
  for (const p of [o.port, o.statsPort, ...ports, ...(ownRedis ? [o.redisPort] : [])]) {
    if (!(await portFree(p))) throw new Error(`port ${p} on 127.0.0.1 is in use`);
  }
  await ensureDatabase(o, fresh);
  if (o.reset) rmSync(join(dir, 'redis'), { recursive: true, force: true });
  mkdirSync(join(dir, 'redis'), { recursive: true });
  const env = sharedEnv(o);
  writeFileSync(join(dir, 'cli.env'), Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');

  const state: ClusterState = {
    status: 'starting', pid: process.pid, url: env.FACEGATE_ISSUER, caFile: cert, stats: `http://127.0.0.1:${o.statsPort}/`,
    databaseUrl: `postgres://postgres@127.0.0.1:5432/${o.database}`, redisUrl: redisUrl(o), ownRedis, env, instances: [], citizens: [],
    substantialActions: o.substantialActions, proxyHops: o.proxyHops, workersPerInstance: o.workers, startedAt: new Date().toISOString(),
  };
  const view = (s: Supervised): ClusterProcess => ({ name: s.name, pid: s.pid, port: s.port, restarts: s.restarts, log: s.log });
  const save = () => {
    state.instances = supervised.filter((s) => s.name.startsWith('gateway')).map(view);
    const h = supervised.find((s) => s.name === 'haproxy');
    const r = supervised.find((s) => s.name === 'redis');
    state.haproxy = h && view(h);
    state.redis = r && view(r);
    writeFileSync(statePath(dir), `${JSON.stringify(state, null, 2)}\n`);
  };
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    state.status = 'stopping';
    save();
    say(`${signal}: stopping HAProxy, the instances (graceful), then Redis`);
    const order = [supervised.filter((s) => s.name === 'haproxy'), supervised.filter((s) => s.name.startsWith('gateway')), supervised.filter((s) => s.name === 'redis')];
    for (const group of order) {
      await Promise.all(group.map(async (s) => {
        if (!s.proc || s.proc.exitCode !== null || s.proc.signalCode !== null) return;
        const exited = new Promise<void>((r) => s.proc!.once('exit', () => r()));
        s.proc.kill('SIGTERM');
        const killed = setTimeout(() => s.proc!.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(killed);
      }));
    }
    state.status = 'stopped';
    save();
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  save();

  if (ownRedis) {
    // Its own server on another port, so fault tests can stop it without touching the shared one.
    // AOF on: the attempt limits (lockouts) must survive a Redis restart.
    const redis: Supervised = {
      name: 'redis', pid: 0, port: o.redisPort, restarts: 0, log: join(dir, 'logs', 'redis.log'), restartMs: 1000,
      start: () => spawn(redisServer, ['--port', String(o.redisPort), '--bind', '127.0.0.1', '--dir', join(dir, 'redis'), '--appendonly', 'yes', '--save', ''],
        { stdio: ['ignore', logFd('redis'), logFd('redis')] }),
    };
    supervised.push(redis);
    launch(redis, save);
    await waitFor('redis', async () => !(await portFree(o.redisPort)), 15_000);
    say(`redis-server on 127.0.0.1:${o.redisPort} (pid ${redis.pid}, AOF in ${join(dir, 'redis')})`);
  }

  say('migrations (once, before the instances)');
  if (facegate(['migrate'], env).status !== 0) throw new Error('facegate migrate failed');
  const dataDir = process.env.FACEGATE_TEST_DATA ?? join(projectRoot, '..', 'shared', 'data');
  const { csv, ids } = citizensCsv(o, dataDir);
  state.citizens = ids;
  const digest = createHash('sha256').update(readFileSync(csv)).update(o.database).digest('hex');
  const marker = join(dir, 'citizens.imported');
  if (!o.reset && existsSync(marker) && readFileSync(marker, 'utf8') === digest) {
    say(`registry: the ${ids.length} load citizens are already imported`);
  } else {
    say(`registry import of ${ids.length} load citizens (${csv}, photos from ${join(dataDir, 'faces')})`);
    const r = facegate(['registry', 'import', '--csv', csv, '--photos', join(dataDir, 'faces'), '--operator', 'cluster', '--json'], env, 'pipe');
    if (r.status !== 0) throw new Error(`facegate registry import failed: ${r.stdout.slice(-500)} ${r.stderr.slice(-500)}`);
    writeFileSync(marker, digest);
  }

  // The instances run as `npm start` does (the start-up bundle), built once here so that three
  // starts never rebuild it at the same time.
  const built = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'build.mjs')], { cwd: projectRoot, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('scripts/build.mjs failed');
  for (const [i, port] of ports.entries()) {
    const name = `gateway${i + 1}`;
    const inst: Supervised = {
      name, pid: 0, port, restarts: 0, log: join(dir, 'logs', `${name}.log`), restartMs: 1000,
      start: () => spawn(process.execPath, [join(projectRoot, 'scripts', 'start.mjs')],
        { cwd: projectRoot, env: childEnv({ ...env, PORT: String(port) }), stdio: ['ignore', logFd(name), logFd(name)] }),
    };
    supervised.push(inst);
    launch(inst, save);
  }
  save();
  say(`starting ${ports.length} instances on ports ${ports.join(', ')} (${o.workers} face worker(s) each); logs in ${join(dir, 'logs')}`);
  const t0 = Date.now();
  await Promise.all(ports.map((p) => waitFor(`instance on ${p}`, () => readyz(p), 180_000)));
  say(`instances ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(o, pem, ports));
  const check = spawnSync(haproxy, ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy.cfg: ${check.stdout}${check.stderr}`);
  const lb: Supervised = {
    name: 'haproxy', pid: 0, port: o.port, restarts: 0, log: join(dir, 'logs', 'haproxy.log'), restartMs: 1000,
    start: () => spawn(haproxy, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', logFd('haproxy'), logFd('haproxy')] }),
  };
  supervised.push(lb);
  launch(lb, save);
  await waitFor('HAProxy', async () => (await httpsJson(`${state.url}/readyz`, cert)).status === 200, 30_000);
  const discovery = await httpsJson(`${state.url}/.well-known/openid-configuration`, cert);
  const issuer = (discovery.json as { issuer?: string }).issuer;
  if (issuer !== state.url) throw new Error(`discovery through HAProxy: issuer ${issuer}, expected ${state.url}`);
  state.status = 'ready';
  save();
  say(`ready: ${state.url} (issuer; HAProxy, TLS with ${cert}) · ${ports.length} instances ${ports.map((p) => `127.0.0.1:${p}`).join(', ')} · stats ${state.stats}`);
  say(`PostgreSQL ${state.databaseUrl} · Redis ${state.redisUrl} · ${ids.length} citizens ${ids[0]}…${ids.at(-1)} · substantial actions ${o.substantialActions}`);
  say(`load: npm run bench:cluster -- --duration 60 --concurrency 8   ·   CLI: npm run cluster -- facegate audit verify   ·   stop: Ctrl-C or npm run cluster -- --stop`);
}

async function main() {
  // `npm run cluster -- facegate <command…>`: the CLI with the cluster's settings.
  if (process.argv[2] === 'facegate') {
    const state = readClusterState(dir);
    if (!state) throw new Error('no cluster state: start it first with npm run cluster');
    const r = spawnSync(process.execPath, [join(projectRoot, 'bin', 'facegate'), ...process.argv.slice(3)], { cwd: projectRoot, env: childEnv(state.env), stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
  const { values } = parseArgs({
    options: {
      stop: { type: 'boolean', default: false },
      reset: { type: 'boolean', default: false },
      instances: { type: 'string', default: '3' },
      port: { type: 'string', default: '8443' },
      'base-port': { type: 'string', default: '3101' },
      'stats-port': { type: 'string', default: '8404' },
      workers: { type: 'string', default: '1' },
      citizens: { type: 'string', default: '64' },
      database: { type: 'string', default: 'facegate_cluster' },
      'redis-port': { type: 'string', default: '6390' },
      'substantial-actions': { type: 'string', default: '0' },
      'proxy-hops': { type: 'string', default: '2' },
    },
  });
  if (values.stop) return stop();
  const int = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  if (!/^[a-z_][a-z0-9_]*$/.test(values.database)) throw new Error('--database: lower-case letters, digits and _');
  const o: Options = {
    instances: int('instances', values.instances, 1), port: int('port', values.port, 1), basePort: int('base-port', values['base-port'], 1),
    statsPort: int('stats-port', values['stats-port'], 1), workers: int('workers', values.workers, 1), citizens: int('citizens', values.citizens, 1),
    database: values.database, redisPort: int('redis-port', values['redis-port'], 1), substantialActions: int('substantial-actions', values['substantial-actions'], 0),
    proxyHops: int('proxy-hops', values['proxy-hops'], 1), reset: values.reset,
  };
  await start(o);
}

main().catch((err: Error) => {
  process.stderr.write(`cluster: ${err.message}\n`);
  stopping = true;
  for (const s of supervised) s.proc?.kill('SIGTERM');
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 3000).unref();
});
