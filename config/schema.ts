// Every setting of Facegate, with its default and its meaning, in one zod schema. The loader
// (config/load.ts) is the only code that reads process.env; everything else receives the parsed,
// frozen result. Imports only zod.
import { z } from 'zod';

const qualityGrade = z.object({
  minInterEyePx: z.number().positive().describe('Smallest inter-eye distance in source pixels (ISO/IEC 29794-5 IED); below it: face_too_small'),
  maxOutsideFraction: z.number().min(0).max(1).describe('Largest fraction of the face box allowed outside the picture; above it: face_cut_off'),
  maxFaceHeightFraction: z.number().positive().describe('Largest face box height as a fraction of the picture height; above it: face_too_close (passive liveness needs the surroundings of the face)'),
  minSharpness: z.number().min(0).describe('Smallest variance of the Laplacian on the aligned 112x112 gray face; below it: blurry'),
  minBrightness: z.number().min(0).max(255).describe('Smallest mean luminance of the aligned face; below it: too_dark'),
  maxBrightness: z.number().min(0).max(255).describe('Largest mean luminance of the aligned face; above it: too_bright'),
  maxDarkFraction: z.number().min(0).max(1).describe('Largest fraction of face pixels with luminance < 30 (under-exposure); above it: too_dark'),
  maxBrightFraction: z.number().min(0).max(1).describe('Largest fraction of face pixels with luminance > 245 (over-exposure); above it: too_bright'),
  maxLightImbalance: z.number().min(0).max(1).describe('Largest |left-right|/(left+right) luminance of the face halves (illumination uniformity); above it: uneven_light'),
  maxYawDeg: z.number().positive().describe('Largest |yaw| in degrees; above it: face_turned'),
  maxPitchDeg: z.number().positive().describe('Largest |pitch| in degrees; above it: face_turned'),
  maxRollDeg: z.number().positive().describe('Largest |roll| in degrees; above it: face_turned'),
  minEyesOpen: z.number().min(0).max(1).describe('Smallest eye-open probability of the more open eye; below it: eyes_closed'),
  maxSecondFaceRatio: z.number().min(0).max(1).describe('Largest width of the second face relative to the dominant one; above it: multiple_faces'),
});

const secret = (what: string) => z.string().min(32).describe(what);

export const acrSubstantial = 'http://eidas.europa.eu/LoA/substantial';
export const acrHigh = 'http://eidas.europa.eu/LoA/high';

export const configSchema = z.object({
  env: z.enum(['development', 'test', 'production']).default('development').describe('NODE_ENV: development, test or production'),
  server: z.object({
    port: z.number().int().min(0).max(65535).default(3000).describe('TCP port the gateway listens on (0: any free port)'),
    host: z.string().default('0.0.0.0').describe('Address the gateway listens on'),
    issuer: z.url().optional().describe('Public issuer URL as agencies see it (https in production); default http://localhost:$PORT'),
    trustProxy: z.boolean().default(false).describe('Trust X-Forwarded-* headers (set when behind a TLS-offloading proxy)'),
    proxyHops: z.number().int().min(1).max(10).default(1).describe('With server.trustProxy: how many proxies in front of the gateway each append to X-Forwarded-For. The client IP is the entry that many places from the right; entries further left are whatever the client sent and are ignored'),
    shutdownGraceMs: z.number().int().min(0).default(10_000).describe('How long a graceful shutdown waits for requests in flight'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
  }).prefault({}),
  database: z.object({
    url: z.string().min(1).describe('postgres://… for PostgreSQL, or sqlite:PATH (a file; created with its folder)'),
    schema: z.string().regex(/^[a-z_][a-z0-9_]*$/).optional().describe('PostgreSQL schema to use (created by migrate); default: the server default (public)'),
    poolMax: z.number().int().min(1).default(10).describe('Largest number of PostgreSQL connections per instance'),
    minFreeMiB: z.number().int().min(0).default(64).describe('SQLite: free space the database file\'s volume must keep for the instance to report ready (/readyz); a write is checked on every database in any case'),
  }),
  secrets: z.object({
    cookieKeys: z.array(secret('cookie signing key')).min(1).describe('Keys that sign the provider cookies, newest first (comma-separated in the environment); the same on every instance'),
    dataKeys: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), z.string()).describe('AES-256-GCM keys for data at rest (face templates, private signing keys) by key id: id:base64 pairs, comma-separated in the environment; each key is 32 bytes'),
    dataKeyId: z.string().describe('Id of the data key that encrypts new rows; the others still decrypt old rows'),
    dpopNonceSecret: secret('Secret (32 bytes, base64) from which DPoP nonces are derived; the same on every instance'),
    pairwiseSalt: secret('Salt of the pairwise subject identifiers; changing it changes every agency\'s `sub`'),
    csrfSecret: secret('Secret of the CSRF tokens of the sign-in pages'),
    auditKeys: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), z.string()).describe('HMAC-SHA256 keys that anchor the audit chain (each row\'s MAC; docs/operations.md#the-audit-trail) by key id: id:base64 pairs, comma-separated in the environment; each key at least 32 bytes. Never stored in the database; keep old keys as long as rows MACed under them must verify'),
    auditKeyId: z.string().describe('Id of the audit key that MACs new audit rows; the others still verify old rows'),
  }),
  oidc: z.object({
    ttl: z.object({
      authorizationCode: z.number().int().min(1).max(60).default(60).describe('Authorization code lifetime in seconds (at most 60)'),
      accessToken: z.number().int().min(1).max(600).default(600).describe('Access token lifetime in seconds (at most 600)'),
      idToken: z.number().int().min(1).max(3600).default(600).describe('ID token lifetime in seconds'),
      interaction: z.number().int().min(60).max(600).default(600).describe('Sign-in interaction lifetime in seconds (at most 600)'),
      session: z.number().int().min(60).max(1800).default(1800).describe('Session lifetime in seconds since its last use (idle timeout, at most 1800)'),
      grant: z.number().int().min(60).default(1800).describe('Grant (consent) lifetime in seconds'),
    }).prefault({}),
    defaultAcr: z.enum([acrSubstantial, acrHigh]).default(acrSubstantial).describe('Level used when an agency asks for none (and has no default_acr_values)'),
    clockToleranceSeconds: z.number().int().min(10).max(60).default(15).describe('How far an agency\'s clock may run ahead: a client assertion or DPoP proof whose iat or nbf is further in the future is refused (FAPI 2.0 SP 5.3.2.1-14: accept 10 s, refuse beyond 60 s); also the tolerance on their exp'),
    backchannelLogout: z.object({
      retryDelaysMs: z.array(z.number().int().min(0).max(3_600_000)).max(10).default([1000, 4000, 16_000]).describe('A logout token the agency did not accept (no 200/204 within 2.5 s) is sent again (a new token) after each of these delays in turn, in milliseconds; each failure is audited with its jti. Retries are kept in the instance\'s memory: a restart drops them (the trail shows the last failure)'),
    }).prefault({}).describe('Logout tokens to agencies\' backchannel_logout_uri (docs/agencies.md#logout)'),
    outbound: z.object({
      allowPrivateNetworks: z.boolean().default(false).describe('Requests the gateway makes to agencies (their jwks_uri, CIBA pings, proof-of-life notification webhooks) may go to loopback, private and other special-use addresses. Off: refused, so a registered URL cannot make the gateway reach its own network (SSRF). On only when agencies are on an internal network (or in tests)'),
      caFile: z.string().optional().describe('A PEM file of extra certificate authorities trusted for those requests (a government PKI), besides the system\'s'),
    }).prefault({}).describe('Requests from the gateway to agencies'),
    trustFramework: z.string().regex(/^[a-z0-9_.:-]{1,100}$/, 'must be 1 to 100 of a-z 0-9 _ . : -').default('eidas').describe('OpenID Connect for Identity Assurance trust_framework of verified_claims (and trust_frameworks_supported): set the identifier of your national framework; the default, eidas, is the specification\'s predefined value for the eIDAS regulation'),
    registryName: z.string().trim().min(1).max(200).default('Citizen registry').describe('Name of the citizen registry in verified_claims evidence (record.source.name)'),
  }).prefault({}),
  proof: z.object({
    expirySeconds: z.number().int().min(30).default(600).describe('Lifetime of a proof-of-life request (CIBA auth_req_id and the citizen\'s link) when the agency sends no requested_expiry'),
    maxExpirySeconds: z.number().int().min(30).default(7 * 86_400).describe('Longest lifetime an agency may ask for with requested_expiry (a link sent by letter needs days)'),
    pollIntervalSeconds: z.number().int().min(1).max(60).default(5).describe('The CIBA polling interval (`interval` of the answer): a poll of a pending request sooner than this after the previous one (or the request) is answered slow_down, and the interval grows by 5 s for that request'),
    notifyTimeoutMs: z.number().int().min(100).max(30_000).default(5000).describe('How long the agency\'s notification webhook has to accept a notice (2xx) before the backchannel request fails (temporarily_unavailable)'),
  }).prefault({}).describe('Agency-initiated proof of life over CIBA (docs/agencies.md#proof-of-life)'),
  passkeys: z.object({
    enabled: z.boolean().default(true).describe('Offer and use passkeys (WebAuthn) after the face check at sign-in (docs/agencies.md#possession-factor). The relying party ID is the issuer\'s host name, which must be a domain (not an IP address): with an IP issuer no passkey step is offered'),
    rpName: z.string().min(1).max(64).default('Facegate').describe('The name authenticators show for the gateway when a passkey is added'),
    challengeSeconds: z.number().int().min(30).max(600).default(180).describe('Lifetime of a passkey challenge (single use, stored in the database) and the time the authenticator is given'),
    stepSeconds: z.number().int().min(60).max(1800).default(600).describe('How long after a verified face the passkey step waits (then the sign-in starts again)'),
    maxFailures: z.number().int().min(1).max(10).default(3).describe('Failed passkey assertions allowed in one sign-in; then the passkey step ends (face only, or possession_required for an agency that requires a possession factor)'),
  }).prefault({}).describe('Passkeys bound to a citizen after a face check (issue 14, part 2)'),
  account: z.object({
    idleSeconds: z.number().int().min(60).max(3600).default(900).describe('The citizen\'s space (/account): a session unused this long ends (she signs in again with her face)'),
    maxSeconds: z.number().int().min(300).max(86_400).default(7200).describe('The citizen\'s space: the longest a session lasts, however active'),
    internalUrl: z.url().optional().describe('Where the gateway reaches its own provider for the space\'s sign-in (openid-client as the built-in client facegate-account), when the issuer URL is not reachable from inside (behind a proxy), e.g. http://127.0.0.1:3000; requests keep the issuer\'s Host and are marked X-Forwarded-Proto of the issuer (needs server.trustProxy for an https issuer). Default: the issuer itself'),
  }).prefault({}).describe('The citizen\'s own space at /account (docs/support.md)'),
  onboarding: z.object({
    enabled: z.boolean().default(true).describe('Remote onboarding with an identity document at /onboarding (docs/onboarding.md): a citizen in the registry without a face template enrolls one from a live capture checked against her document'),
    portraitThreshold: z.number().min(0).max(1).default(0.43).describe('Cosine threshold of the document portrait against the live face (the best frame of the capture at high), calibrated for document-vs-live pairs by `npm run bench:portrait` (FMR target 1e-5, docs/onboarding.md)'),
    sessionTtlSeconds: z.number().int().min(60).max(3600).default(900).describe('Lifetime of an onboarding session (the ID typed, the document read, the live capture): its state, the document portrait\'s sealed embedding included, is deleted when it ends or expires'),
    maxDocumentAttempts: z.number().int().min(1).max(10).default(3).describe('Document photos one onboarding session may submit before it is refused'),
    maxSessionsPerIdPerDay: z.number().int().min(1).max(50).default(5).describe('Onboarding sessions one national ID may start in 24 hours, counted under its HMAC whether or not the ID exists (one more is refused with rate_limited)'),
    maxDocumentBytes: z.number().int().min(100_000).max(20_000_000).default(8_000_000).describe('Largest document photo accepted (bytes)'),
  }).prefault({}).describe('Remote onboarding with an identity document (docs/onboarding.md)'),
  handoff: z.object({
    ttlSeconds: z.number().int().min(60).max(1800).default(600).describe('Lifetime of a "Use my phone\'s camera" code (QR code and short link), never beyond the sign-in\'s or proof of life\'s own expiry'),
    maxPerSignIn: z.number().int().min(1).max(10).default(3).describe('Phone codes one sign-in (or proof-of-life page) may make; each new code cancels the previous one'),
    lookupFailuresPerIp: z.number().int().min(3).max(1000).default(20).describe('Unknown phone codes typed from one client IP within lookupWindowSeconds before its lookups are refused (rate_limited) until the window ends'),
    lookupWindowSeconds: z.number().int().min(60).max(86_400).default(600).describe('The window of lookupFailuresPerIp'),
  }).prefault({}).describe('"Finish on my phone" (docs/capture-api.md#finish-on-my-phone-handoff)'),
  capture: z.object({
    ttlSeconds: z.number().int().min(30).max(600).default(300).describe('Lifetime of a capture session'),
    maxAttempts: z.number().int().min(1).max(10).default(3).describe('Verification attempts (no match or not live) per capture session before it is closed'),
    maxSubmissions: z.number().int().min(1).max(50).default(10).describe('Frame submissions per capture session, including quality retries'),
    maxCapturesPerInteraction: z.number().int().min(1).max(20).default(3).describe('Capture sessions one sign-in may start (a new ID or the form without JavaScript starts one each); then the citizen goes back to the agency'),
    substantial: z.object({
      minFrames: z.number().int().min(2).default(3).describe('Frames per submission at substantial when it has no action (at least): presence is judged over several frames, never one still'),
      maxFrames: z.number().int().min(2).default(8).describe('Frames per submission at substantial when it has no action (at most)'),
      actions: z.number().int().min(0).max(2).default(1).describe('Server-chosen head turns at substantial (turn_left / turn_right): a still-holding face cannot be told from a photo moved in front of the camera, a small turn can (docs/calibration.md). With actions, high\'s frame counts apply. 0 turns it off and relies on natural motion alone'),
    }).prefault({}),
    high: z.object({
      minFrames: z.number().int().min(2).default(3).describe('Frames per submission at high (at least); passive liveness must hold over them'),
      maxFrames: z.number().int().min(2).default(16).describe('Frames per submission with actions (high, a step-up, or substantial\'s turn) (at most)'),
      actions: z.number().int().min(1).max(4).default(2).describe('Number of random challenge actions at high'),
    }).prefault({}),
    minLiveFraction: z.number().min(0).max(1).default(0.5).describe('Share of the frames that must pass passive liveness (and the median score must reach the threshold)'),
    samePersonThreshold: z.number().min(-1).max(1).default(0.3).describe('Each frame against the fused other frames of its submission must reach this cosine similarity (one person throughout). Lower than the registry thresholds: frames of one session at different poses score 0.16-0.98 (mean 0.56) on the shared video, impostor pairs at most 0.37 (mean 0.02, sd 0.11)'),
    challenge: z.object({
      minYawChangeDeg: z.number().positive().default(8).describe('A head turn: smallest change of the pose model\'s yaw from the neutral frame, in degrees (the shared selfie video turns 9-29 degrees)'),
      minNoseShift: z.number().positive().default(0.15).describe('A head turn: smallest change of the nose tip\'s offset from the eye midpoint, in inter-eye distances, in the same direction as the yaw (a photo turned in the hand keeps this ratio)'),
      eyesClosedBelow: z.number().min(0).max(1).default(0.3).describe('A blink: both eyes\' open-probability below this'),
      eyesOpenAbove: z.number().min(0).max(1).default(0.5).describe('A blink must follow a frame with an eye open-probability above this'),
      actionWindowMs: z.number().int().positive().default(8000).describe('Each action must be seen within this many milliseconds of the previous step (server arrival times); in a streamed capture, of its prompt'),
      minMotion: z.number().min(0).default(0.02).describe('The face must move at least this much (mean landmark displacement, inter-eye distances) across a challenge\'s frames; less is a still picture'),
      repeatMotion: z.number().min(0).default(0.008).describe('Two frames closer than this (and alike in embedding) are one picture repeated: a loop or a still played as a camera'),
      minLiveFrames: z.number().int().min(1).default(2).describe('Frames that must pass passive liveness on their own in a challenge (besides the median and share rules)'),
      sweepLow: z.number().min(0).max(1).default(0.2).describe('A turn must show a frame between the neutral pose and its peak at least this fraction of the peak\'s yaw change…'),
      sweepHigh: z.number().min(0).max(1).default(0.75).describe('…and at most this fraction (a real head sweeps through the angles in between; frames picked from photos jump)'),
      blinkMaxFrames: z.number().int().min(1).default(3).describe('A blink must reopen within this many frames after the closed one'),
    }).prefault({}).describe('The active liveness challenge (LoA high, a risk step-up, and substantial\'s turn)'),
    preview: z.object({
      perSignInPerSecond: z.number().int().min(1).default(4).describe('Quality previews (POST …/quality, the live hints) per sign-in per second; then 429 preview_limited (the page asks again a second later)'),
      perIpPerSecond: z.number().int().min(1).default(30).describe('Quality previews per client IP per second (offices share an address)'),
      maxInFlight: z.number().int().min(1).default(1).describe('Previews on the worker pool at once, per instance: previews never starve the verifications'),
    }).prefault({}).describe('Live guidance while the camera preview runs'),
    stream: z.object({
      minIntervalMs: z.number().int().min(1).default(100).describe('Frames of a streamed capture: a camera delivers at most one frame per this many milliseconds on average (a burst of stream.burstFrames is allowed for network jitter); faster frames are refused (frame_too_fast)'),
      burstFrames: z.number().int().min(1).default(4).describe('Frames that may arrive back to back after a network stall before frame_too_fast'),
      maxFrames: z.number().int().min(3).max(200).default(60).describe('Frames one streamed capture takes at most; then the server decides on what it has'),
      maxFrameBytes: z.number().int().min(1024).default(512 * 1024).describe('Largest frame of a streamed capture, in bytes (a 640x480 JPEG is 30-80 KB)'),
      maxCaptureBytes: z.number().int().min(1024).default(12 * 1024 * 1024).describe('Bytes one streamed capture takes at most'),
      maxStreams: z.number().int().min(1).default(200).describe('Streams open at once on one instance (each holds up to stream.maxCaptureBytes until its decision)'),
      maxStreamsPerIp: z.number().int().min(1).default(4).describe('Streams open at once from one client IP, per instance'),
      startTimeoutMs: z.number().int().min(100).default(10_000).describe('Time from opening the stream to its start message'),
      neutralMs: z.number().int().min(0).default(800).describe('The look-straight step: at least this long and stream.neutralFrames frames before the first prompt'),
      neutralFrames: z.number().int().min(1).default(3).describe('Frames of the look-straight step before the first prompt (and the whole capture when it has no action)'),
      promptDelayMs: z.tuple([z.number().int().min(0), z.number().int().min(0)]).default([500, 1200]).describe('Each prompt is sent after a random delay in this range (ms) once the previous step ended: a client cannot know when'),
      settleFrames: z.number().int().min(0).default(2).describe('Frames taken after an action was seen before the next step (the head coming back, the eyes reopening)'),
      deadlineMs: z.number().int().min(1000).default(30_000).describe('The whole streamed capture must end within this; then the server decides on the frames it has'),
    }).prefault({}).describe('Streamed captures (docs/capture-api.md): the server stamps each frame\'s arrival and times the prompts'),
    presence: z.object({
      minNonPlanar: z.number().min(0).default(0.03).describe('Natural motion: the median over frame pairs of the RMS residual of a homography fitted to the 68 landmarks, in inter-eye distances, must reach this; a flat picture moved, tilted or warped stays below (docs/calibration.md)'),
      maxSceneChange: z.number().min(0).default(45).describe('One continuous scene: the largest change of the background between consecutive frames (gray levels, mean-matched, shift-tolerant) allowed. Genuine frames of the shared video reach 31 at 400 ms through a browser; cuts between different photos or scenes reach 50-83'),
      backgroundMargin: z.number().min(0).default(0.3).describe('Background cells are those outside the face box grown by this fraction of its size on each side'),
      minBackgroundCells: z.number().int().min(1).default(12).describe('Fewer background cells than this in two consecutive frames: too close to judge the scene (face_too_close)'),
    }).prefault({}).describe('Presence over the frames of one capture, at every level (src/capture/presence.ts)'),
  }).prefault({}),
  risk: z.object({
    redisUrl: z.string().optional().describe('REDIS_URL: keep the attempt limits in Redis (redis://…) instead of the database; shared by every instance'),
    lockout: z.object({
      maxFailures: z.number().int().min(1).max(10).default(5).describe('Consecutive failed verifications (no match, not live, failed challenge, replayed frame) of a national ID from one source network (IPv4 /24, IPv6 /64) before the ID is locked out on that network (NIST SP 800-63B 5.2.3: at most 5, 10 with PAD). From then on every sign-in of the ID, from any network, needs the active challenge until a success'),
      maxFailuresAnyNetwork: z.number().int().min(1).max(100).default(20).describe('Consecutive failed verifications of a national ID across all networks before the ID is locked out everywhere (NIST SP 800-63B 5.2.2: at most 100). Below it an impostor locks only the networks he tries from, not the citizen elsewhere (5.2.2: rate limiting must not let an attacker lock the claimant out easily). Taken as at least lockout.maxFailures'),
      baseSeconds: z.number().int().min(1).default(900).describe('Length of the first lockout; each further lockout within lockout.memorySeconds doubles it'),
      maxSeconds: z.number().int().min(1).default(86_400).describe('Longest lockout'),
      failureWindowSeconds: z.number().int().min(60).default(86_400).describe('How long a failure counts towards the consecutive count when no success follows'),
      memorySeconds: z.number().int().min(60).default(7 * 86_400).describe('How long a past lockout counts for doubling the next one'),
    }).prefault({}),
    retriesPerIdPerHour: z.number().int().min(1).default(30).describe('Quality retries (no face, blurry, too dark…) per national ID from one source network per hour; they do not lock the ID out, but beyond this it waits on that network for the hour to end (other networks are not held up)'),
    ip: z.object({
      failuresPerHour: z.number().int().min(1).default(100).describe('Failed verifications per client IP per hour (generous: libraries and offices share one address); then the IP waits'),
      startsPerMinute: z.number().int().min(1).default(30).describe('Capture starts per client IP per minute'),
    }).prefault({}),
    replay: z.object({
      windowSeconds: z.number().int().min(60).default(86_400).describe('How long the sha256 of every received frame is kept: the same bytes again within it are refused as a replay (unless the same capture sends again the frames of a submission that never got an answer)'),
    }).prefault({}),
    signals: z.object({
      minFrameIntervalMs: z.number().min(0).default(16).describe('Client capture times closer than this (a 60 fps camera delivers a frame every 16.7 ms) flag fast_frames'),
      clockSkewSeconds: z.number().int().min(0).default(300).describe('Tolerance for the client clock: capture times (epoch ms) outside the session, widened by this, flag timestamp_outside_session'),
      editingSoftware: z.array(z.string().min(2)).default(['photoshop', 'gimp', 'snapseed', 'lightroom', 'picsart', 'facetune', 'faceapp', 'meitu', 'pixelmator', 'affinity photo', 'paint.net', 'canva', 'fotor', 'airbrush', 'youcam']).describe('Names in the EXIF Software tag (case-insensitive) that flag editing_software'),
    }).prefault({}),
    rules: z.object({
      stepUpAfterIdFailures: z.number().int().min(1).default(2).describe('Consecutive failures on the national ID from which the active challenge is required'),
      stepUpAfterIpFailures: z.number().int().min(1).default(20).describe('Failures from the client IP in the last hour from which the active challenge is required'),
      stepUpOnNewDevice: z.boolean().default(false).describe('Require the challenge whenever the network and the user agent are both new for the citizen (otherwise a new device doubles the margins below)'),
      thinMatchMargin: z.number().min(0).max(1).default(0.05).describe('A match score less than this above its threshold is thin: the challenge is required before verifying'),
      thinLivenessMargin: z.number().min(0).max(1).default(0).describe('A passive liveness median less than this above its threshold is thin: the challenge is required before verifying. Off (0) by default: on genuine browser captures of the shared video the per-frame score spreads over 0.01-0.99 and the median of five frames falls anywhere in 0.33-0.9, and there is no attack data to show a margin separates attacks; turn it on after calibrating liveness on real captures and attacks (docs/calibration.md)'),
      stepUpFlags: z.array(z.enum(['fast_frames', 'editing_software', 'timestamp_outside_session'])).default(['fast_frames', 'editing_software', 'timestamp_outside_session']).describe('Injection signals that require the challenge'),
      denyFlags: z.array(z.enum(['replayed_frame', 'duplicate_frame', 'fast_frames', 'editing_software', 'timestamp_outside_session'])).default(['replayed_frame', 'duplicate_frame']).describe('Signals that refuse the attempt outright (a failed attempt, outwardly not_verified)'),
    }).prefault({}),
    deviceMemoryDays: z.number().int().min(1).default(180).describe('How long a network and user agent stay known for a citizen after her last sign-in from them'),
  }).prefault({}),
  demo: z.object({
    enabled: z.boolean().describe('Register the demo agency and serve the /demo relying-party page'),
  }),
  biometrics: z.object({
    modelsDir: z.string().describe('Folder holding the ONNX files and manifest.json'),
    workers: z.number().int().min(1).max(64).describe('Worker threads for face analysis'),
    image: z.object({
      maxBytes: z.number().int().positive().default(8 * 1024 * 1024).describe('Largest accepted image in bytes; above it: image_too_large'),
      maxPixels: z.number().int().positive().default(40_000_000).describe('Largest accepted width x height, read from the header before decoding; above it: image_too_large'),
      minSide: z.number().int().positive().default(32).describe('Smallest accepted width or height in pixels; below it: image_too_small'),
      workingMaxSide: z.number().int().positive().default(1280).describe('Decoded images are shrunk on load so the long side is at most this; faces stay well above the embedding resolution'),
    }).prefault({}),
    detector: z.object({
      scoreThreshold: z.number().min(0).max(1).default(0.8).describe('Face score below which a detection is dropped (real faces in the shared data score >= 0.98; the false detections seen scored 0.3-0.73)'),
      nmsIou: z.number().min(0).max(1).default(0.4).describe('IoU above which overlapping detections are merged (non-maximum suppression)'),
      padFraction: z.number().min(0).max(1).default(0.35).describe('When no face is found, or the largest touches the border, the picture is padded by this fraction of its size on each side and searched again (tight crops and ID photos)'),
    }).prefault({}),
    liveness: z.object({
      threshold: z.number().min(0).max(1).default(0.5).describe('Smallest passive liveness score (softmax class "live") for one frame to count as live'),
    }).prefault({}),
    match: z.object({
      substantial: z.number().min(-1).max(1).describe('Cosine similarity threshold at LoA substantial (target FMR <= 1e-4)'),
      high: z.number().min(-1).max(1).describe('Cosine similarity threshold at LoA high (target FMR <= 1e-5)'),
      calibration: z.string().describe('Where the thresholds came from: data, pair counts, method'),
      adaptive: z.object({
        enabled: z.boolean().default(true).describe('Move the match threshold with the probe frame\'s pose (docs/calibration.md); off: the level\'s threshold always'),
        frontalDeg: z.number().min(0).default(15).describe('Probe pose (|yaw| + |pitch|, degrees) up to which the threshold is lowered by `relief`'),
        offPoseDeg: z.number().min(0).default(30).describe('Probe pose from which the threshold is raised by `raise`; linear in between'),
        relief: z.number().min(0).max(0.1).default(0.03).describe('Largest lowering of the level\'s threshold for a frontal probe (frontal impostor pairs support it: docs/calibration.md)'),
        raise: z.number().min(0).max(0.2).default(0.06).describe('Raising of the level\'s threshold for an off-pose probe, where impostor scores spread wider'),
      }).prefault({}),
    }),
    quality: z.object({
      capture: qualityGrade.describe('Thresholds for a sign-in capture'),
      enrollment: qualityGrade.describe('Stricter thresholds for a registry (reference) image'),
      document: qualityGrade.describe('Thresholds for the portrait printed on an identity document (docs/onboarding.md): a print, softer and smaller than a capture; the ghost image beside it is not a second person'),
    }),
  }),
});

type Parsed = z.infer<typeof configSchema>;
/** The loaded configuration: as parsed, with the issuer resolved from the port when not set. */
export type Config = Parsed & { server: Parsed['server'] & { issuer: string } };
export type QualityGrade = z.infer<typeof qualityGrade>;
export type BiometricsConfig = Config['biometrics'];
