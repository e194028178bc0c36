// The networks (/24 or /64) and user agents each citizen signed in from, as HMACs with the time
// last seen: "a new place or a new browser for her" is one input of the risk rule. Imports db only.
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/knex.ts';

export type DeviceKeys = { network: string; agent: string };
export type Novelty = { newNetwork: boolean; newAgent: boolean };

/**
 * Whether the network and the user agent are new for the citizen (seen after `since`). An
 * unknown ID runs the same query (on a random id) and reads as new on both, as a known
 * citizen's first sign-in from anywhere does.
 */
export async function deviceNovelty(db: Db, citizenId: string | null, keys: DeviceKeys, since: number): Promise<Novelty> {
  const rows = await db('citizen_devices').select('network', 'agent')
    .where({ citizen_id: citizenId ?? randomUUID() }).andWhere('last_seen', '>=', since)
    .andWhere((q) => { q.where({ network: keys.network }).orWhere({ agent: keys.agent }); });
  return { newNetwork: !rows.some((r) => r.network === keys.network), newAgent: !rows.some((r) => r.agent === keys.agent) };
}

/** Records a successful sign-in from this network and user agent. */
export async function rememberDevice(db: Db, citizenId: string, keys: DeviceKeys, now: number): Promise<void> {
  await db('citizen_devices').insert({ citizen_id: citizenId, network: keys.network, agent: keys.agent, last_seen: now })
    .onConflict(['citizen_id', 'network', 'agent']).merge({ last_seen: now });
}

/** Forgets devices not seen since `before` (housekeeping). */
export async function pruneDevices(db: Db, before: number): Promise<number> {
  return db('citizen_devices').where('last_seen', '<', before).del();
}
