// The risk decision: allow, step up (require the active challenge) or deny, with its reasons,
// from the attempt counts, the lock in force, device novelty, the face checks' margins and the
// replay and injection flags. Pure: the rules come from config, the clock is passed in.
import type { Config } from '../../config/schema.ts';
import type { Novelty } from './devices.ts';
import type { Lock } from './limits.ts';
import type { RiskFlag } from './signals.ts';

export type RiskAction = 'allow' | 'step_up' | 'deny';
export type RiskReason =
  | 'locked' | RiskFlag | 'recent_id_failures' | 'recent_ip_failures' | 'new_device'
  | 'thin_match_margin' | 'thin_liveness_margin' | 'challenge_done';

export type RiskInput = {
  now: number;
  lock?: Lock;
  /** Consecutive failures on the claimed ID (from all networks) and from the client IP in the last hour. */
  idFailures: number;
  ipFailures: number;
  /**
   * The ID's failures across networks reached the per-network lockout limit (lockout.maxFailures):
   * someone failed as often as locks a network, here or elsewhere. Every network then gets the
   * challenge, whatever stepUpAfterIdFailures says, until a success or the ID is locked everywhere.
   */
  pastNetworkLimit?: boolean;
  novelty?: Novelty;
  /** score − threshold of the checks that passed (submission only). */
  margins?: { match?: number; liveness?: number };
  flags: readonly RiskFlag[];
  /** The flow already carries the active challenge (high, or stepped up before). */
  challenged: boolean;
};
export type RiskDecision = { action: RiskAction; reasons: RiskReason[] };
export type RiskRules = Config['risk']['rules'];

export function decideRisk(input: RiskInput, rules: RiskRules): RiskDecision {
  const deny: RiskReason[] = [];
  if (input.lock && input.lock.retryAt > input.now) deny.push('locked');
  for (const f of input.flags) if (rules.denyFlags.includes(f) && !deny.includes(f)) deny.push(f);
  if (deny.length) return { action: 'deny', reasons: deny };

  const stepUp: RiskReason[] = [];
  if (input.idFailures >= rules.stepUpAfterIdFailures || input.pastNetworkLimit) stepUp.push('recent_id_failures');
  if (input.ipFailures >= rules.stepUpAfterIpFailures) stepUp.push('recent_ip_failures');
  for (const f of input.flags) if ((rules.stepUpFlags as readonly string[]).includes(f) && !stepUp.includes(f)) stepUp.push(f);
  // A place and a browser both new for her: the challenge if so configured, else wider margins.
  const newDevice = Boolean(input.novelty?.newNetwork && input.novelty.newAgent);
  if (newDevice && rules.stepUpOnNewDevice) stepUp.push('new_device');
  const widen = newDevice ? 2 : 1;
  const { match, liveness } = input.margins ?? {};
  if (match !== undefined && match < rules.thinMatchMargin * widen) stepUp.push('thin_match_margin');
  if (liveness !== undefined && liveness < rules.thinLivenessMargin * widen) stepUp.push('thin_liveness_margin');
  if (newDevice && !stepUp.includes('new_device') && stepUp.length) stepUp.push('new_device');

  if (!stepUp.length) return { action: 'allow', reasons: newDevice ? ['new_device'] : [] };
  // The challenge is the step-up: a flow that already performed it is not asked again.
  return input.challenged ? { action: 'allow', reasons: [...stepUp, 'challenge_done'] } : { action: 'step_up', reasons: stepUp };
}
