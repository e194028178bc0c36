// The capture session as a small state machine: a versioned record changed only by
// applyEvent() over the transition table below. Pure: no I/O, the clock is passed in.
//
//   every event counts one submission; at maxSubmissions an open flow ─▶ rejected
//   open ──verified──▶ verified
//   open ──retry─────▶ open
//   open ──failed────▶ open      (attempts+1; at maxAttempts ─▶ rejected)
//   open ──(now ≥ expiresAt)──▶ expired
//   verified | rejected | expired: final
import type { Acr } from '../oidc/acr.ts';
import { AppError } from '../shared/errors.ts';

export type CaptureState = 'open' | 'verified' | 'rejected' | 'expired';
export type ChallengeAction = 'blink' | 'turn_left' | 'turn_right';
/** sign_in: an oidc-provider interaction; proof_of_life: an agency's CIBA request (src/proof/); onboarding: a remote onboarding (src/onboarding/). */
export type CapturePurpose = 'sign_in' | 'proof_of_life' | 'onboarding';

export interface CaptureFlow {
  id: string;
  /** What the flow is bound to: the interaction uid (sign_in) or the proof request's id (proof_of_life). */
  interactionUid: string;
  clientId: string | null;
  /** Null when the national ID is not in the registry: the flow runs the same, and fails. */
  citizenId: string | null;
  /** HMAC of the claimed national ID (known or not): the key of its attempt limits. */
  idKey?: string;
  purpose: CapturePurpose;
  acr: Acr;
  actions: ChallengeAction[];
  state: CaptureState;
  attemptsUsed: number;
  submissions: number;
  version: number;
  expiresAt: number;
  createdAt: number;
  updatedAt: number;
}

export type CaptureEvent = { type: 'verified' } | { type: 'retry' } | { type: 'failed' };
export type FlowLimits = { maxAttempts: number; maxSubmissions: number };

/** The state a flow is in at `now` (an open flow past its expiry is expired). */
export function currentState(flow: CaptureFlow, now: number): CaptureState {
  return flow.state === 'open' && now >= flow.expiresAt ? 'expired' : flow.state;
}

/** Throws the stable code for a flow that can no longer take frames. */
export function assertOpen(flow: CaptureFlow, now: number): void {
  const state = currentState(flow, now);
  if (state === 'expired') throw new AppError('capture_expired');
  if (state !== 'open') throw new AppError('capture_closed');
}

/** Applies one submission's outcome; returns the next version of the flow. */
export function applyEvent(flow: CaptureFlow, event: CaptureEvent, now: number, limits: FlowLimits): CaptureFlow {
  assertOpen(flow, now);
  const submissions = flow.submissions + 1;
  const attemptsUsed = flow.attemptsUsed + (event.type === 'failed' ? 1 : 0);
  let state: CaptureState = 'open';
  if (event.type === 'verified') state = 'verified';
  else if (attemptsUsed >= limits.maxAttempts || submissions >= limits.maxSubmissions) state = 'rejected';
  return { ...flow, state, submissions, attemptsUsed, version: flow.version + 1, updatedAt: now };
}

/** Verification attempts left (what the citizen is told). */
export function attemptsLeft(flow: CaptureFlow, limits: FlowLimits): number {
  return flow.state === 'open' ? Math.max(0, limits.maxAttempts - flow.attemptsUsed) : 0;
}
