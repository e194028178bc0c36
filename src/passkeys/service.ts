// The passkey step of a sign-in (docs/capture-api.md#the-passkey-step): after a verified face,
// before the citizen goes back to the agency. With no passkey she is offered to add one (never
// twice in one browser session once she said "not now"); with one she is asked for it, and the
// sign-in finishes with amr face, user and hwk or swk. The face check is what binds a passkey to her
// identity, so a passkey is only ever added here, after a verified face. The state between the face
// and the passkey (which face, which level, the single-use challenge, the failures) is a row of
// `passkey_steps` (shared by every instance); WebAuthn itself is @simplewebauthn/server.
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  AuthenticationResponseJSON, AuthenticatorTransport, RegistrationResponseJSON,
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type Provider from 'oidc-provider';
import { Counter, type Registry } from 'prom-client';
import type { Config } from '../../config/schema.ts';
import type { Audit } from '../audit/log.ts';
import type { SignIn } from '../capture/finish.ts';
import type { Db } from '../db/knex.ts';
import { findCitizenById } from '../registry/citizens.ts';
import { AppError } from '../shared/errors.ts';
import { requiresPossession } from './policy.ts';
import { credentialsOf, insertPasskey, kindOf, recordUse, shortId, type PasskeyKind } from './store.ts';

// Loaded on first use: the library takes about a second to import, which start-up need not pay.
let loading: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webauthn = () => (loading ??= import('@simplewebauthn/server'));

/** offer: she has none, may add one; assert: she has one, is asked for it; required: the agency needs one and she has none. */
export type StepMode = 'offer' | 'assert' | 'required';
export type Step = {
  uid: string; citizenId: string; clientId: string; acr: string; faceAt: number; mode: StepMode; required: boolean;
  challenge: string | null; challengeExpiresAt: number | null; failures: number; expiresAt: number;
};
type StepRow = {
  interaction_uid: string; citizen_id: string; client_id: string; acr: string; face_at: number | string; mode: string; required: boolean | number;
  challenge: string | null; challenge_expires_at: number | string | null; failures: number; expires_at: number | string; created_at: number | string;
};
const toStep = (r: StepRow): Step => ({
  uid: r.interaction_uid, citizenId: r.citizen_id, clientId: r.client_id, acr: r.acr, faceAt: Number(r.face_at),
  mode: r.mode as StepMode, required: Boolean(r.required), challenge: r.challenge,
  challengeExpiresAt: r.challenge_expires_at === null ? null : Number(r.challenge_expires_at), failures: Number(r.failures), expiresAt: Number(r.expires_at),
});

/** The cookie that remembers "not now" for the browser session (no expiry: it ends with the browser). */
export const laterCookie = 'facegate_passkey_later';

export type Requester = { ip?: string; userAgent?: string };
/** Where a finished step sends the browser: the sign-in, with the amr it earned, or a refusal. */
export type StepOutcome =
  | { finish: SignIn }
  | { refuse: { error: string; description: string } }
  | { added: true; step: Step };

/** The WebAuthn relying party of an issuer: its host name (a domain) and origin; undefined for an IP issuer. */
export function relyingPartyOf(issuer: string): { rpId: string; origin: string } | undefined {
  const url = new URL(issuer);
  const host = url.hostname;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith('[')) return undefined;
  return { rpId: host, origin: url.origin };
}

export type PasskeyDeps = { db: Db; audit: Audit; config: Readonly<Config>; provider: Provider; clock?: () => number; registry?: Registry };

export function createPasskeys({ db, audit, config, provider, clock = Date.now, registry }: PasskeyDeps) {
  const settings = config.passkeys;
  const rp = relyingPartyOf(config.server.issuer!);
  const enabled = settings.enabled && rp !== undefined;
  const events = new Counter({
    name: 'facegate_passkey_events_total',
    help: 'Passkey step events: offered, registered, used (by kind), failed, declined, refused (possession required)',
    labelNames: ['event', 'kind'] as const,
    registers: registry ? [registry] : [],
  });
  const userHandle = (citizenId: string) => createHmac('sha256', config.secrets.pairwiseSalt).update(`passkey-user:${citizenId}`).digest().subarray(0, 32);

  async function loadStep(uid: string): Promise<Step> {
    const row = await db<StepRow>('passkey_steps').where({ interaction_uid: uid }).first();
    if (!row || Number(row.expires_at) <= clock()) throw new AppError('passkey_unavailable');
    return toStep(row);
  }

  /**
   * The step after a verified face (registered with finish.ts): undefined to finish now (passkeys
   * off, or nothing to offer), or the page of the step. Reads her passkeys and the agency's setting.
   */
  async function afterFace(req: IncomingMessage, res: ServerResponse, signIn: SignIn): Promise<string | undefined> {
    if (!enabled) return undefined;
    const details = await provider.interactionDetails(req, res);
    const client = await provider.Client.find(String(details.params.client_id));
    const required = requiresPossession(client);
    const mine = await credentialsOf(db, signIn.citizenId);
    const later = (req.headers.cookie ?? '').split(/;\s*/).includes(`${laterCookie}=1`);
    let mode: StepMode;
    if (mine.length) mode = 'assert';
    else if (required) mode = 'required';
    else if (later) return undefined;
    else mode = 'offer';
    const now = clock();
    const row = {
      interaction_uid: details.uid, citizen_id: signIn.citizenId, client_id: String(details.params.client_id), acr: signIn.acr, face_at: signIn.ts,
      mode, required, challenge: null, challenge_expires_at: null, failures: 0, expires_at: now + settings.stepSeconds * 1000, created_at: now,
    };
    await db('passkey_steps').insert(row).onConflict('interaction_uid').merge();
    events.inc({ event: mode === 'assert' ? 'asked' : 'offered', kind: '' });
    return `${rp!.origin}/interaction/${encodeURIComponent(details.uid)}/passkey`;
  }

  /** Stores a fresh challenge on the step (the only one valid from now on) and answers the WebAuthn options. */
  async function options(uid: string) {
    const step = await loadStep(uid);
    const mine = await credentialsOf(db, step.citizenId);
    const timeout = settings.challengeSeconds * 1000;
    let json: Awaited<ReturnType<typeof generateRegistrationOptions>> | Awaited<ReturnType<typeof generateAuthenticationOptions>>;
    if (step.mode === 'assert') {
      if (!mine.length) throw new AppError('passkey_unavailable');
      json = await (await webauthn()).generateAuthenticationOptions({
        rpID: rp!.rpId, timeout, userVerification: 'preferred',
        allowCredentials: mine.map((c) => ({ id: c.id, transports: c.transports as AuthenticatorTransport[] })),
      });
    } else {
      const citizen = await findCitizenById(db, step.citizenId);
      if (!citizen) throw new AppError('passkey_unavailable');
      // What her authenticator shows: the service and the end of her ID number (never her name).
      const label = `ID …${citizen.nationalId.slice(-4)}`;
      json = await (await webauthn()).generateRegistrationOptions({
        rpName: settings.rpName, rpID: rp!.rpId, userName: label, userDisplayName: label, userID: new Uint8Array(userHandle(step.citizenId)),
        timeout, attestationType: 'none', supportedAlgorithmIDs: [-7, -257],
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
        excludeCredentials: mine.map((c) => ({ id: c.id, transports: c.transports as AuthenticatorTransport[] })),
      });
    }
    await db('passkey_steps').where({ interaction_uid: uid }).update({ challenge: json.challenge, challenge_expires_at: clock() + timeout });
    return json;
  }

  /** Takes the step's challenge (single use: compare and clear); throws when none is pending or it expired. */
  // An answer without a pending challenge (spent, replaced or expired) is a failed attempt too (a replay).
  async function takeChallenge(step: Step, requester: Requester): Promise<string> {
    if (!step.challenge || (step.challengeExpiresAt ?? 0) <= clock()) throw await failed(step, 'no_challenge', requester);
    const n = await db('passkey_steps').where({ interaction_uid: step.uid, challenge: step.challenge }).update({ challenge: null, challenge_expires_at: null });
    if (n !== 1) throw await failed(step, 'challenge_used', requester);
    return step.challenge;
  }

  /** A failed attempt: audited, counted; past maxFailures the step ends (face only, or refused when required). */
  async function failed(step: Step, code: string, requester: Requester, extra: Record<string, unknown> = {}): Promise<AppError> {
    await db('passkey_steps').where({ interaction_uid: step.uid }).increment('failures', 1);
    const failures = step.failures + 1;
    events.inc({ event: 'failed', kind: '' });
    await audit({
      type: step.mode === 'assert' ? 'passkey.assertion_failed' : 'passkey.registration_failed', outcome: 'failure', code: 'passkey_failed',
      interactionUid: step.uid, clientId: step.clientId, citizenId: step.citizenId, ...requester, details: { reason: code, failures, ...extra },
    });
    return new AppError('passkey_failed', undefined, { failures, attemptsLeft: Math.max(0, settings.maxFailures - failures) });
  }

  function checkAttempts(step: Step): void {
    if (step.failures >= settings.maxFailures) throw new AppError('passkey_failed', 'too many failed passkey attempts in this sign-in', { attemptsLeft: 0 });
  }

  /** Verifies a registration (a new passkey bound to her identity after the verified face) and stores it. */
  async function register(uid: string, response: unknown, requester: Requester): Promise<StepOutcome> {
    const step = await loadStep(uid);
    if (step.mode === 'assert') throw new AppError('passkey_unavailable', 'this step asks for a passkey, not for a new one');
    checkAttempts(step);
    const challenge = await takeChallenge(step, requester);
    const lib = await webauthn();
    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await lib.verifyRegistrationResponse({
        response: response as RegistrationResponseJSON, expectedChallenge: challenge, expectedOrigin: rp!.origin, expectedRPID: rp!.rpId,
        requireUserVerification: false,
      });
    } catch (err) {
      throw await failed(step, 'invalid_registration', requester, { message: (err as Error).message.slice(0, 200) });
    }
    if (!verified.verified) throw await failed(step, 'not_verified', requester);
    const info = verified.registrationInfo;
    const kind: PasskeyKind = kindOf(info.credentialDeviceType);
    const stored = await insertPasskey(db, {
      id: info.credential.id, citizenId: step.citizenId, publicKey: info.credential.publicKey, counter: info.credential.counter,
      transports: info.credential.transports ?? [], deviceType: info.credentialDeviceType, backedUp: info.credentialBackedUp,
      aaguid: info.aaguid, label: labelOf(requester.userAgent), createdAt: clock(),
    });
    if (!stored) throw await failed(step, 'credential_exists', requester);
    events.inc({ event: 'registered', kind });
    await audit({
      type: 'passkey.registered', outcome: 'success', interactionUid: uid, clientId: step.clientId, citizenId: step.citizenId, ...requester,
      details: { credential: shortId(info.credential.id), kind, deviceType: info.credentialDeviceType, backedUp: info.credentialBackedUp, userVerified: info.userVerified, aaguid: info.aaguid, faceAcr: step.acr },
    });
    // A passkey made in this sign-in proves nothing more than the face that bound it: it counts from the next one.
    if (step.required) return { added: true, step };
    return { finish: await consume(step, ['face', 'user']) };
  }

  /** Verifies an assertion by one of her passkeys (counter checked), then finishes with amr + hwk|swk. */
  async function authenticate(uid: string, response: unknown, requester: Requester): Promise<StepOutcome> {
    const step = await loadStep(uid);
    if (step.mode !== 'assert') throw new AppError('passkey_unavailable', 'this step has no passkey to check');
    checkAttempts(step);
    const challenge = await takeChallenge(step, requester);
    const r = response as AuthenticationResponseJSON;
    const credential = (await credentialsOf(db, step.citizenId)).find((c) => c.id === r?.id);
    if (!credential) throw await failed(step, 'unknown_credential', requester);
    const lib = await webauthn();
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verified = await lib.verifyAuthenticationResponse({
        response: r, expectedChallenge: challenge, expectedOrigin: rp!.origin, expectedRPID: rp!.rpId, requireUserVerification: false,
        credential: { id: credential.id, publicKey: credential.publicKey as Uint8Array<ArrayBuffer>, counter: credential.counter, transports: credential.transports as AuthenticatorTransport[] },
      });
    } catch (err) {
      throw await failed(step, 'invalid_assertion', requester, { credential: shortId(credential.id), message: (err as Error).message.slice(0, 200) });
    }
    if (!verified.verified) throw await failed(step, 'not_verified', requester, { credential: shortId(credential.id) });
    const info = verified.authenticationInfo;
    const moved = await recordUse(db, { id: credential.id, oldCounter: credential.counter, newCounter: info.newCounter, backedUp: info.credentialBackedUp, at: clock() });
    if (!moved) throw await failed(step, 'counter_race', requester, { credential: shortId(credential.id) });
    // The kind was decided at registration (device type is fixed for a credential's life).
    const kind = credential.kind;
    events.inc({ event: 'used', kind });
    await audit({
      type: 'passkey.used', outcome: 'success', interactionUid: uid, clientId: step.clientId, citizenId: step.citizenId, ...requester,
      details: { credential: shortId(credential.id), kind, userVerified: info.userVerified, counter: info.newCounter },
    });
    return { finish: await consume(step, ['face', 'user', kind]) };
  }

  /**
   * She goes on without a passkey: "not now" (offer), "use face only" (assert, unless the agency
   * requires one), or cancel / give up (required): then the agency is refused with possession_required.
   */
  async function skip(uid: string, action: string, requester: Requester): Promise<StepOutcome> {
    const step = await loadStep(uid);
    if (step.required && step.mode !== 'offer') {
      events.inc({ event: 'refused', kind: '' });
      await consume(step, ['face', 'user']);
      await audit({
        type: 'passkey.possession_refused', outcome: 'failure', code: 'possession_required', interactionUid: uid, clientId: step.clientId, citizenId: step.citizenId, ...requester,
        details: { mode: step.mode, action, failures: step.failures },
      });
      return { refuse: { error: 'unmet_authentication_requirements', description: 'possession_required: the agency requires a possession factor (a passkey bound after a face check) and none was used' } };
    }
    if (action !== 'later' && action !== 'face_only') throw new AppError('invalid_input', 'action must be "later" or "face_only"');
    events.inc({ event: 'declined', kind: '' });
    await audit({
      type: 'passkey.declined', outcome: 'info', interactionUid: uid, clientId: step.clientId, citizenId: step.citizenId, ...requester,
      details: { mode: step.mode, action, failures: step.failures },
    });
    return { finish: await consume(step, ['face', 'user']) };
  }

  /** Ends the step (single use: a second finish finds no row) and answers the sign-in it earned. */
  async function consume(step: Step, amr: string[]): Promise<SignIn> {
    const n = await db('passkey_steps').where({ interaction_uid: step.uid }).delete();
    if (n !== 1) throw new AppError('passkey_unavailable');
    return { citizenId: step.citizenId, acr: step.acr, amr, ts: step.faceAt };
  }

  /** Steps past their expiry (housekeeping). */
  async function prune(now: number): Promise<number> {
    return db('passkey_steps').where('expires_at', '<=', now).delete();
  }

  return { enabled, relyingParty: rp, afterFace, loadStep, options, register, authenticate, skip, prune };
}

export type Passkeys = ReturnType<typeof createPasskeys>;

/** A label for a new passkey from the browser that made it ("Chrome on Android"), for her list of devices. */
export function labelOf(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : 'a device';
  return `${browser} on ${os}`;
}
