// The risk rule alone (src/risk/decide-risk.ts): allow, step up or deny with reasons, from the
// configured rules, on a fixed clock.
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../config/load.ts';
import { decideRisk, type RiskInput } from '../../../src/risk/decide-risk.ts';

const rules = loadConfig({ NODE_ENV: 'test' }).risk.rules;
const now = Date.UTC(2026, 10, 28, 8, 0, 0);
const calm: RiskInput = {
  now, idFailures: 0, ipFailures: 0, novelty: { newNetwork: false, newAgent: false },
  margins: { match: 0.3, liveness: 0.4 }, flags: [], challenged: false,
};

describe('decideRisk', () => {
  it('allows a known device with wide margins and no history', () => {
    expect(decideRisk(calm, rules)).toEqual({ action: 'allow', reasons: [] });
  });

  it('denies while a lock is in force, and not once it has passed', () => {
    const lock = { scope: 'id' as const, reason: 'lockout' as const, retryAt: now + 1 };
    expect(decideRisk({ ...calm, lock }, rules)).toEqual({ action: 'deny', reasons: ['locked'] });
    expect(decideRisk({ ...calm, lock: { ...lock, retryAt: now } }, rules).action).toBe('allow');
  });

  it('denies a replayed or duplicated frame even on a flow that did the challenge', () => {
    expect(decideRisk({ ...calm, flags: ['replayed_frame'], challenged: true }, rules)).toEqual({ action: 'deny', reasons: ['replayed_frame'] });
    expect(decideRisk({ ...calm, flags: ['duplicate_frame', 'fast_frames'] }, rules)).toEqual({ action: 'deny', reasons: ['duplicate_frame'] });
  });

  it('steps up on recent failures of the ID or the IP, at the configured counts', () => {
    expect(decideRisk({ ...calm, idFailures: rules.stepUpAfterIdFailures - 1 }, rules).action).toBe('allow');
    expect(decideRisk({ ...calm, idFailures: rules.stepUpAfterIdFailures }, rules)).toEqual({ action: 'step_up', reasons: ['recent_id_failures'] });
    expect(decideRisk({ ...calm, ipFailures: rules.stepUpAfterIpFailures }, rules)).toEqual({ action: 'step_up', reasons: ['recent_ip_failures'] });
  });

  it('steps up past the per-network lockout limit whatever stepUpAfterIdFailures says (the ID locked on some network is not locked here)', () => {
    const lax = { ...rules, stepUpAfterIdFailures: 50 };
    expect(decideRisk({ ...calm, idFailures: 5 }, lax).action).toBe('allow');
    expect(decideRisk({ ...calm, idFailures: 5, pastNetworkLimit: true }, lax)).toEqual({ action: 'step_up', reasons: ['recent_id_failures'] });
    expect(decideRisk({ ...calm, idFailures: 5, pastNetworkLimit: true, challenged: true }, lax)).toEqual({ action: 'allow', reasons: ['recent_id_failures', 'challenge_done'] });
  });

  it('steps up on injection flags', () => {
    for (const flag of ['fast_frames', 'editing_software', 'timestamp_outside_session'] as const) {
      expect(decideRisk({ ...calm, flags: [flag] }, rules)).toEqual({ action: 'step_up', reasons: [flag] });
    }
  });

  it('steps up on a thin match or liveness margin; a new device doubles the margin asked', () => {
    const m = rules.thinMatchMargin;
    expect(decideRisk({ ...calm, margins: { match: m * 0.9, liveness: 0.4 } }, rules)).toEqual({ action: 'step_up', reasons: ['thin_match_margin'] });
    expect(decideRisk({ ...calm, margins: { match: m * 1.5, liveness: 0.4 } }, rules).action).toBe('allow');
    const newDevice = { newNetwork: true, newAgent: true };
    expect(decideRisk({ ...calm, novelty: newDevice, margins: { match: m * 1.5, liveness: 0.4 } }, rules))
      .toEqual({ action: 'step_up', reasons: ['thin_match_margin', 'new_device'] });
    expect(decideRisk({ ...calm, novelty: newDevice }, rules)).toEqual({ action: 'allow', reasons: ['new_device'] });
    expect(decideRisk({ ...calm, margins: { match: 0.3, liveness: 0.05 } }, { ...rules, thinLivenessMargin: 0.1 }).reasons).toEqual(['thin_liveness_margin']);
  });

  it('a new network alone, or a new browser alone, is not a new device', () => {
    expect(decideRisk({ ...calm, novelty: { newNetwork: true, newAgent: false }, margins: { match: rules.thinMatchMargin * 1.5, liveness: 0.4 } }, rules).action).toBe('allow');
  });

  it('steps up on a new device alone when configured to', () => {
    const strict = { ...rules, stepUpOnNewDevice: true };
    expect(decideRisk({ ...calm, novelty: { newNetwork: true, newAgent: true } }, strict)).toEqual({ action: 'step_up', reasons: ['new_device'] });
  });

  it('allows a flow that already performed the challenge, keeping the reasons', () => {
    expect(decideRisk({ ...calm, flags: ['fast_frames'], challenged: true }, rules)).toEqual({ action: 'allow', reasons: ['fast_frames', 'challenge_done'] });
  });

  it('follows the configured flags: a flag moved to denyFlags denies', () => {
    const strict = { ...rules, denyFlags: [...rules.denyFlags, 'editing_software' as const] };
    expect(decideRisk({ ...calm, flags: ['editing_software'] }, strict)).toEqual({ action: 'deny', reasons: ['editing_software'] });
  });
});
