// The capture flow's transition table (src/capture/flow.ts), one transition per test, on a fixed clock.
import { describe, expect, it } from '@jest/globals';
import { acrSubstantial } from '../../../src/oidc/acr.ts';
import { applyEvent, assertOpen, attemptsLeft, currentState, type CaptureFlow, type FlowLimits } from '../../../src/capture/flow.ts';
import { codeOf } from '../../helpers/errors.ts';

const t0 = 1_700_000_000_000;
const expiresAt = t0 + 300_000;
const limits: FlowLimits = { maxAttempts: 3, maxSubmissions: 10 };

const flow = (over: Partial<CaptureFlow> = {}): CaptureFlow => ({
  id: 'flow-1',
  interactionUid: 'uid-1',
  clientId: 'tax.agency',
  citizenId: 'citizen-1',
  purpose: 'sign_in',
  acr: acrSubstantial,
  actions: [],
  state: 'open',
  attemptsUsed: 0,
  submissions: 0,
  version: 1,
  expiresAt,
  createdAt: t0,
  updatedAt: t0,
  ...over,
});


describe('applyEvent', () => {
  it('moves an open flow to verified on a verified event', () => {
    expect(applyEvent(flow(), { type: 'verified' }, t0 + 1_000, limits).state).toBe('verified');
  });

  it('keeps the flow open on retry and counts the submission, not an attempt', () => {
    const next = applyEvent(flow({ submissions: 2, attemptsUsed: 1 }), { type: 'retry' }, t0 + 1_000, limits);
    expect(next).toMatchObject({ state: 'open', submissions: 3, attemptsUsed: 1 });
  });

  it('keeps the flow open on failed and counts an attempt', () => {
    const next = applyEvent(flow({ attemptsUsed: 1 }), { type: 'failed' }, t0 + 1_000, limits);
    expect(next).toMatchObject({ state: 'open', attemptsUsed: 2 });
  });

  it('rejects the flow when a failed event reaches maxAttempts', () => {
    const next = applyEvent(flow({ attemptsUsed: 2, submissions: 2 }), { type: 'failed' }, t0 + 1_000, limits);
    expect(next).toMatchObject({ state: 'rejected', attemptsUsed: 3 });
  });

  it('rejects the flow when a retry reaches maxSubmissions', () => {
    const next = applyEvent(flow({ submissions: 9 }), { type: 'retry' }, t0 + 1_000, limits);
    expect(next).toMatchObject({ state: 'rejected', submissions: 10, attemptsUsed: 0 });
  });

  it('verifies on the last allowed submission', () => {
    const next = applyEvent(flow({ submissions: 9, attemptsUsed: 2 }), { type: 'verified' }, t0 + 1_000, limits);
    expect(next.state).toBe('verified');
  });

  it('increments the version and stamps updatedAt with the given clock', () => {
    const next = applyEvent(flow({ version: 7 }), { type: 'retry' }, t0 + 4_321, limits);
    expect(next).toMatchObject({ version: 8, updatedAt: t0 + 4_321, createdAt: t0 });
  });

  it('returns a new record and leaves the input unchanged', () => {
    const before = flow();
    const next = applyEvent(before, { type: 'failed' }, t0 + 1_000, limits);
    expect(next).not.toBe(before);
    expect(before).toEqual(flow());
  });

  it('refuses an event on an expired flow with capture_expired', () => {
    expect(codeOf(() => applyEvent(flow(), { type: 'verified' }, expiresAt, limits))).toBe('capture_expired');
  });

  it.each(['verified', 'rejected'] as const)('refuses an event on a %s flow with capture_closed', (state) => {
    expect(codeOf(() => applyEvent(flow({ state }), { type: 'retry' }, t0 + 1_000, limits))).toBe('capture_closed');
  });

  it('refuses an event on a flow stored as expired with capture_expired', () => {
    expect(codeOf(() => applyEvent(flow({ state: 'expired' }), { type: 'retry' }, t0 + 1_000, limits))).toBe('capture_expired');
  });
});

describe('currentState', () => {
  it('is open until just before expiresAt', () => {
    expect(currentState(flow(), expiresAt - 1)).toBe('open');
  });

  it('is expired for an open flow at expiresAt', () => {
    expect(currentState(flow(), expiresAt)).toBe('expired');
  });

  it('keeps a final state past expiresAt', () => {
    expect(currentState(flow({ state: 'verified' }), expiresAt + 1)).toBe('verified');
  });
});

describe('assertOpen', () => {
  it('accepts an open flow before expiry', () => {
    expect(() => assertOpen(flow(), expiresAt - 1)).not.toThrow();
  });

  it('throws capture_expired for an open flow past expiry', () => {
    expect(codeOf(() => assertOpen(flow(), expiresAt + 1))).toBe('capture_expired');
  });

  it('throws capture_closed for a verified flow', () => {
    expect(codeOf(() => assertOpen(flow({ state: 'verified' }), t0))).toBe('capture_closed');
  });

  it('throws capture_closed for a rejected flow', () => {
    expect(codeOf(() => assertOpen(flow({ state: 'rejected' }), t0))).toBe('capture_closed');
  });
});

describe('attemptsLeft', () => {
  it('is maxAttempts minus the attempts used on an open flow', () => {
    expect(attemptsLeft(flow({ attemptsUsed: 1 }), limits)).toBe(2);
  });

  it('is 0 once the flow is rejected', () => {
    const rejected = applyEvent(flow({ attemptsUsed: 2 }), { type: 'failed' }, t0 + 1_000, limits);
    expect(attemptsLeft(rejected, limits)).toBe(0);
  });

  it('is 0 on a verified flow', () => {
    expect(attemptsLeft(flow({ state: 'verified' }), limits)).toBe(0);
  });

  it('never goes below 0', () => {
    expect(attemptsLeft(flow({ attemptsUsed: 5 }), limits)).toBe(0);
  });
});
