// `npm run bench:startup`: how long `npm start` takes to be ready. Starts the gateway as a child
// process (`node scripts/start.mjs`, as `npm start` does: the start-up bundle of scripts/build.mjs)
// on a free 127.0.0.1 port and a fresh SQLite file, polls /readyz every 25 ms and reports the time
// from spawn to the first 200, and to the "listening" log line. The first start is cold for the
// database (migrations, signing keys, the demo agency); the next ones start on that database (a
// restart), alternating with starts from the TypeScript sources (`node --import tsx src/main.ts`)
// so that both see the same machine. The bundle is brought up to date before the first start.
// Human-readable lines go to stderr; the last line on stdout is one JSON object.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = join(import.meta.dirname, '..');
const starts = Number(process.env.BENCH_STARTS ?? 4);
const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (v: number) => Math.round(v);

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
});

interface Start { listeningMs: number; readyMs: number; cpuMs: number }

/** CPU time of a process, all its threads, user + system (Linux /proc; NaN elsewhere). */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return NaN;
  }
}

const commands = { bundle: ['scripts/start.mjs'], sources: ['--import', 'tsx', 'src/main.ts'] } as const;

async function startOnce(dataDir: string, how: keyof typeof commands): Promise<Start> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, commands[how], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'development', PORT: String(port), HOST: '127.0.0.1', FACEGATE_ISSUER: `http://127.0.0.1:${port}`,
      DATABASE_URL: `sqlite:${join(dataDir, 'facegate.sqlite')}`, FACEGATE_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let listeningMs = NaN;
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (Number.isNaN(listeningMs) && output.includes('Facegate listening')) listeningMs = performance.now() - t0;
  });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let dead = false;
  void exited.then(() => { dead = true; });
  try {
    for (;;) {
      if (dead) throw new Error(`the gateway exited before it was ready:\n${output.slice(-2000)}`);
      if (performance.now() - t0 > 120_000) throw new Error('not ready after 120 s');
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) return { listeningMs, readyMs: performance.now() - t0, cpuMs: cpuMsOf(child.pid!) };
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'facegate-startup-'));
  // The bundle npm start would build first: made before the timed starts.
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`scripts/build.mjs failed:\n${built.stderr}`);
  const load = loadavg()[0];
  try {
    const first = await startOnce(dataDir, 'bundle');
    log(`start 1 (fresh database, npm start): listening after ${round(first.listeningMs)} ms, /readyz 200 after ${round(first.readyMs)} ms (${round(first.cpuMs)} ms of CPU)`);
    const runs = { bundle: [] as Start[], sources: [] as Start[] };
    for (let i = 1; i < starts; i++) {
      for (const how of i % 2 ? (['bundle', 'sources'] as const) : (['sources', 'bundle'] as const)) {
        const r = await startOnce(dataDir, how);
        runs[how].push(r);
        log(`restart ${i} (${how === 'bundle' ? 'npm start' : 'tsx on the sources'}): listening after ${round(r.listeningMs)} ms, /readyz 200 after ${round(r.readyMs)} ms (${round(r.cpuMs)} ms of CPU)`);
      }
    }
    const median = (list: Start[], key: keyof Start) => {
      const v = list.map((r) => r[key]).sort((a, b) => a - b);
      return v.length ? round(v[Math.floor(v.length / 2)]) : NaN;
    };
    const readyMedianMs = median(runs.bundle, 'readyMs');
    const sourcesMedianMs = median(runs.sources, 'readyMs');
    log(`ready after a restart: npm start ${readyMedianMs} ms (CPU ${median(runs.bundle, 'cpuMs')} ms), tsx on the sources ${sourcesMedianMs} ms (CPU ${median(runs.sources, 'cpuMs')} ms), medians over ${runs.bundle.length} starts each; load average ${load.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end`);
    const shape = (r: Start) => ({ listeningMs: round(r.listeningMs), readyMs: round(r.readyMs), cpuMs: round(r.cpuMs) });
    process.stdout.write(`${JSON.stringify({
      starts, loadAverage: Math.round(load * 100) / 100,
      freshDatabase: shape(first),
      restarts: { bundle: runs.bundle.map(shape), sources: runs.sources.map(shape) },
      readyMedianMs, sourcesMedianMs, cpuMedianMs: { bundle: median(runs.bundle, 'cpuMs'), sources: median(runs.sources, 'cpuMs') },
      targets: { readyWithin3s: readyMedianMs <= 3000 },
    })}\n`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
