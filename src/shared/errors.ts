// The catalogue of stable error codes: HTTP status, whether the message is shown to the caller,
// and the message (the code doubles as the i18n key). Imports nothing from the project.

export const errorCatalogue = {
  unsupported_image: { status: 415, expose: true, message: 'The file is not a JPEG, PNG or WebP still image.' },
  corrupt_image: { status: 400, expose: true, message: 'The image could not be read; it may be truncated or damaged.' },
  image_too_large: { status: 413, expose: true, message: 'The image is larger than allowed in bytes or pixels.' },
  image_too_small: { status: 400, expose: true, message: 'The image is too small to contain a usable face.' },
  no_face: { status: 422, expose: true, message: 'No face was found. Look straight into the camera.' },
  multiple_faces: { status: 422, expose: true, message: 'More than one face is visible. Make sure you are alone in the picture.' },
  face_too_small: { status: 422, expose: true, message: 'The face is too small. Move closer to the camera.' },
  face_too_close: { status: 422, expose: true, message: 'The face is too close. Hold the camera a little further away.' },
  face_cut_off: { status: 422, expose: true, message: 'Part of the face is outside the picture. Centre your face in the frame.' },
  blurry: { status: 422, expose: true, message: 'The picture is blurred. Hold still and clean the lens.' },
  too_dark: { status: 422, expose: true, message: 'The picture is too dark. Find more light.' },
  too_bright: { status: 422, expose: true, message: 'The picture is too bright. Move away from direct light.' },
  uneven_light: { status: 422, expose: true, message: 'One side of the face is in shadow. Face the light evenly.' },
  face_turned: { status: 422, expose: true, message: 'Face the camera directly and keep your head straight.' },
  eyes_closed: { status: 422, expose: true, message: 'Keep your eyes open.' },
  frames_inconsistent: { status: 400, expose: true, message: 'The pictures of one capture must all come from the same camera, at the same size.' },
  challenge_failed: { status: 422, expose: true, message: 'We could not see every movement we asked for. Start by looking straight at the camera, then follow each instruction in order.' },
  not_live: { status: 403, expose: true, message: 'We could not confirm that a live person is in front of the camera. Look into the camera yourself (not a photo or a screen), in even light, follow the instructions, and try again.' },
  no_match: { status: 403, expose: true, message: 'The face could not be verified.' },
  not_verified: { status: 403, expose: true, message: 'We could not confirm it is you. Check that you entered your own ID number, face the camera in good light, and try again.' },
  too_many_frames: { status: 400, expose: true, message: 'Too many pictures were sent at once.' },
  too_few_frames: { status: 400, expose: true, message: 'Not enough pictures were sent for this check.' },
  capture_not_found: { status: 404, expose: true, message: 'This verification was not found. Start again.' },
  capture_expired: { status: 410, expose: true, message: 'This verification has expired. Start again.' },
  too_many_captures: { status: 429, expose: true, message: 'You have tried too many times in this sign-in. Go back to the service you came from and start again later.' },
  locked: { status: 429, expose: true, message: 'Too many attempts to verify this ID number have failed, so face sign-in is paused for it. Try again after the time shown. If you cannot wait, go to a service desk with your ID card, or use another way of signing in that the service offers.' },
  rate_limited: { status: 429, expose: true, message: 'Too many attempts have come from your network. Try again after the time shown, or use another way of signing in that the service offers.' },
  camera_required: { status: 422, expose: true, message: 'This sign-in needs a short movement check in front of a live camera, which a photo upload cannot do. Use the camera on this page (JavaScript must be on), or go to a service desk with your ID card.' },
  challenge_required: { status: 422, expose: true, message: 'One more step: follow the instructions on the screen (look straight at the camera, then do each movement in order).' },
  replayed_frame: { status: 403, expose: false, message: 'A picture was sent before (a replay).' },
  frame_too_fast: { status: 429, expose: true, message: 'Pictures arrived faster than a camera takes them; this one was not used.' },
  frame_out_of_order: { status: 400, expose: true, message: 'A picture arrived out of order (its sequence number is not the next one).' },
  frame_too_large: { status: 413, expose: true, message: 'A picture, or the whole capture, is larger than allowed.' },
  stream_required: { status: 410, expose: true, message: 'Frames are streamed as they are taken (docs/capture-api.md): open the capture\'s stream instead.' },
  preview_limited: { status: 429, expose: true, message: 'Live hints are busy: the next one comes in a moment.' },
  too_many_streams: { status: 429, expose: true, message: 'Too many captures are open at once from your network. Finish one, then try again.' },
  stream_closed: { status: 409, expose: true, message: 'This capture stream is not taking pictures any more (its time ran out or its answer is being prepared).' },
  capture_busy: { status: 409, expose: true, message: 'A check of this verification is already running. Wait for its answer.' },
  capture_closed: { status: 409, expose: true, message: 'This verification is already finished. Start again.' },
  proof_not_found: { status: 404, expose: true, message: 'This proof-of-life link is not valid. Ask the service that sent it for a new one.' },
  account_sign_in_failed: { status: 400, expose: true, message: 'The sign-in to your space did not finish. Go back to your space and start again.' },
  report_not_found: { status: 404, expose: true, message: 'No open report has this id.' },
  proof_link_used: { status: 409, expose: true, message: 'This proof-of-life link was already opened on another device, and works on that device only. If that was not you, tell the service that sent it.' },
  proof_expired: { status: 410, expose: true, message: 'This proof-of-life request has expired. Ask the service that sent it for a new one.' },
  proof_closed: { status: 409, expose: true, message: 'This proof of life is already finished: the service that asked for it has been told.' },
  handoff_not_found: { status: 404, expose: true, message: 'This phone code is not valid. Check the code on your computer\'s screen and type it again.' },
  handoff_expired: { status: 410, expose: true, message: 'This phone code has expired. On your computer, choose "Make a new code".' },
  handoff_used: { status: 409, expose: true, message: 'This phone code was already opened on another phone, and works there only. On your computer, choose "Make a new code". If it was not you, do not go on.' },
  handoff_cancelled: { status: 410, expose: true, message: 'This phone code was replaced by a newer one, or cancelled, on the computer. Use the code your computer shows now.' },
  handoff_pending: { status: 409, expose: true, message: 'The check on your phone is not finished yet.' },
  notification_failed: { status: 502, expose: false, message: 'The agency\'s notification endpoint did not accept the proof-of-life notice.' },
  interaction_not_found: { status: 404, expose: true, message: 'This sign-in has expired or was not found. Go back to the service and start again.' },
  csrf_invalid: { status: 403, expose: true, message: 'The form has expired or was not sent by this page. Reload the page and try again.' },
  invalid_national_id: { status: 400, expose: true, message: 'The ID number is not in the expected format.' },
  invalid_citizen: { status: 400, expose: true, message: 'The citizen record is not valid.' },
  citizen_not_found: { status: 404, expose: true, message: 'No citizen with this ID number is in the registry.' },
  citizen_exists: { status: 409, expose: true, message: 'A citizen with this ID number is already in the registry; an enrollment cannot change her details or her face.' },
  invalid_client_metadata: { status: 400, expose: true, message: 'The agency registration is not valid.' },
  client_exists: { status: 409, expose: true, message: 'An agency with this client_id is already registered.' },
  logout_delivery_failed: { status: 502, expose: false, message: 'The agency\'s back-channel logout endpoint did not accept the logout token.' },
  level_unavailable: { status: 403, expose: true, message: 'This service asks for a level of verification that cannot be completed here.' },
  https_required: { status: 403, expose: true, message: 'This service is only available over https. Use its https address.' },
  not_ready: { status: 503, expose: true, message: 'The service is starting or unavailable. Try again shortly.' },
  service_unavailable: {
    status: 503, expose: true,
    message: 'The service cannot answer right now: one of its parts is briefly unavailable. Nothing was counted against you. Try again in a few seconds.',
  },
  model_missing: { status: 500, expose: false, message: 'A face model file is missing.' },
  model_mismatch: { status: 500, expose: false, message: 'A face model file does not match its pinned checksum.' },
  body_too_large: { status: 413, expose: true, message: 'The request body is larger than allowed.' },
  duplicate_national_id: { status: 409, expose: true, message: 'This national ID appears more than once in the file.' },
  invalid_input: { status: 400, expose: true, message: 'The request is not valid.' },
  invalid_config: { status: 500, expose: false, message: 'The configuration is not valid.' },
  file_not_found: { status: 404, expose: true, message: 'The file was not found.' },
  mrz_not_found: { status: 422, expose: true, message: 'The machine-readable lines of the document (the two or three lines of letters, numbers and < at the bottom of the photo page) could not be read. Photograph the whole page, flat, in even light, without glare.' },
  mrz_check_failed: { status: 422, expose: true, message: 'The machine-readable lines of the document were read, but their check digits do not all agree. Take a sharper photo of the whole page, flat and without glare.' },
  document_expired: { status: 422, expose: true, message: 'This document has expired. Use a document that is still valid.' },
  document_mismatch: { status: 422, expose: true, message: 'The document does not match the registry record of this ID number (document number, names or date of birth). Check the ID number you typed and use your own document; if only a name is misread, take a sharper photo.' },
  portrait_not_found: { status: 422, expose: true, message: 'No portrait was found on the document. Photograph the page with your photo on it, whole and without glare.' },
  portrait_mismatch: { status: 403, expose: true, message: 'Your face does not match the portrait on the document. Use your own document and look into the camera yourself, in good light.' },
  duplicate_identity: { status: 409, expose: true, message: 'This face is already enrolled under another ID number. Remote onboarding cannot go on: go to a service desk with your document.' },
  onboarding_not_found: { status: 404, expose: true, message: 'This onboarding was not found or has expired. Start again.' },
  onboarding_closed: { status: 409, expose: true, message: 'This onboarding is already finished. Start again if you need to.' },
  onboarding_not_needed: { status: 409, expose: true, message: 'This ID number already has a registry photo: sign in with your face at the service you came from.' },
  remote_onboarding_not_found: { status: 404, expose: true, message: 'This citizen has no remote onboarding on record (see facegate onboarding list).' },
  in_person_check_required: { status: 403, expose: true, message: 'This service asks citizens who enrolled remotely to have their identity checked in person once before signing in at this level. Go to a service desk with your document.' },
  possession_required: { status: 403, expose: true, message: 'This service requires a passkey bound to your identity as well as your face, and none was used. Add a passkey after a face check, then sign in again; if you lost the device, remove it in your space and add a new one.' },
  passkey_failed: { status: 403, expose: true, message: 'The passkey could not be checked. Try again with the passkey of this device.' },
  passkey_unavailable: { status: 409, expose: true, message: 'This step has no passkey to offer or check any more. Go back to the service and sign in again.' },
  internal_error: { status: 500, expose: false, message: 'Something went wrong on our side.' },
} as const satisfies Record<string, { status: number; expose: boolean; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** The one error class: a stable `code` from the catalogue plus details for logs and the audit trail. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, detail?: string, details: Record<string, unknown> = {}) {
    super(detail ?? errorCatalogue[code].message);
    this.name = 'AppError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.expose = errorCatalogue[code].expose;
    this.details = details;
  }
}

/** Across worker threads and jest realms `instanceof` is unreliable: check the shape instead. */
export function isAppError(err: unknown): err is AppError {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AppError'
    && typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code in errorCatalogue;
}

/** Seconds a client is told to wait (Retry-After) after a dependency outage. */
export const outageRetrySeconds = 5;

// A dependency that is down, restarting or full: the database (pg SQLSTATE classes 08
// connection exception, 53 insufficient resources, 57P0x shutdown, 25006 a read-only standby
// after a failover, 40001/40P01 a transaction to run again; SQLite full, busy, read-only or I/O),
// Redis, or the network to them. Such a failure is the service's, and passes once it is back.
const outageCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOSPC', 'EDQUOT',
  '57P01', '57P02', '57P03', '40001', '40P01', '55P03', '25006',
  'SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL',
]);
const outageNames = new Set(['KnexTimeoutError', 'MaxRetriesPerRequestError']);
// pg and ioredis report a lost connection by message alone.
const outageMessages = /connection terminated|connection is closed|not queryable|timeout acquiring a connection|stream isn't writeable/i;

/** True when `err` (or an error it wraps) says a dependency is unavailable rather than a bug. */
export function isOutage(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const { code, name, message, cause, errors } = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  const outageCode = typeof code === 'string' && (code === 'service_unavailable' || outageCodes.has(code)
    || /^(08|53)[0-9A-Z]{3}$/.test(code) || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY_'));
  if (outageCode) return true;
  if (typeof name === 'string' && outageNames.has(name)) return true;
  if (typeof message === 'string' && outageMessages.test(message)) return true;
  return isOutage(cause, depth + 1) || (Array.isArray(errors) && errors.some((e) => isOutage(e, depth + 1)));
}

/**
 * Rebuilds an AppError from its plain form (as it crosses a worker boundary); a dependency outage
 * becomes the retryable `service_unavailable`, anything else unknown `internal_error`.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isAppError(err)) return new AppError(err.code, err.message, err.details);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in errorCatalogue) {
    return new AppError(code as ErrorCode, (err as Error).message);
  }
  // The outage's own message (SQL, hosts) is for the log, not the caller: the catalogue's words.
  if (isOutage(err)) return new AppError('service_unavailable', undefined, { retryAfterSeconds: outageRetrySeconds });
  return new AppError('internal_error', err instanceof Error ? err.message : String(err));
}
