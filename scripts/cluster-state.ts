// The local cluster's state on disk (data/cluster/ by default): where `npm run cluster` keeps its
// secrets, certificate, configuration, logs and the state file that `npm run bench:cluster` reads
// to find the load balancer, the instances' pids and ports, the database and Redis.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const projectRoot = resolve(import.meta.dirname, '..');

/** The cluster's folder: FACEGATE_CLUSTER_DIR or data/cluster under the project. */
export const clusterDir = (dir = process.env.FACEGATE_CLUSTER_DIR) => resolve(dir ?? join(projectRoot, 'data', 'cluster'));

export type ClusterProcess = { name: string; pid: number; port: number; restarts: number; log: string };

export type ClusterState = {
  status: 'starting' | 'ready' | 'stopping' | 'stopped';
  /** The supervisor's pid (`npm run cluster`). */
  pid: number;
  /** The issuer: the load balancer's https URL. */
  url: string;
  /** The self-signed certificate HAProxy presents (trust it with NODE_EXTRA_CA_CERTS or curl --cacert). */
  caFile: string;
  stats: string;
  databaseUrl: string;
  redisUrl: string;
  /** True when the cluster runs its own redis-server (it may be stopped for fault tests). */
  ownRedis: boolean;
  /** The environment every instance gets (secrets as *_FILE paths, never their values). */
  env: Record<string, string>;
  instances: ClusterProcess[];
  haproxy?: ClusterProcess;
  redis?: ClusterProcess;
  /** National IDs enrolled for the load, all with the shared photo of the selfie video's person. */
  citizens: string[];
  substantialActions: number;
  proxyHops: number;
  workersPerInstance: number;
  startedAt: string;
};

export const statePath = (dir = clusterDir()) => join(dir, 'state.json');

/** The running cluster's state, or undefined when no state file exists. */
export function readClusterState(dir = clusterDir()): ClusterState | undefined {
  const file = statePath(dir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

/** True when a process with this pid exists. */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
