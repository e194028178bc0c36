// Prometheus metrics (prom-client) on a registry of this app's own: HTTP latency by route,
// capture decisions, the cost of each face-analysis stage, and risk control (decisions by reason,
// lockouts, replay and injection signals, submission latency). Exposed at /metrics.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ImageAnalysis } from '../biometrics/engine.ts';
import type { RiskObserver } from '../capture/service.ts';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'facegate_' });
  const http = new Histogram({
    name: 'facegate_http_request_duration_seconds', help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  const decisions = new Counter({
    name: 'facegate_capture_decisions_total', help: 'Capture decisions by level, status and reason code',
    labelNames: ['level', 'status', 'code'], registers: [registry],
  });
  const stages = new Histogram({
    name: 'facegate_face_stage_seconds', help: 'Face analysis time per stage (per frame)',
    labelNames: ['stage'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25], registers: [registry],
  });
  const risk = new Counter({
    name: 'facegate_risk_decisions_total', help: 'Risk decisions by stage (start, submit), action (allow, step_up, deny) and reason (one count per reason; "none" when there was none)',
    labelNames: ['stage', 'action', 'reason'], registers: [registry],
  });
  const lockouts = new Counter({
    name: 'facegate_lockouts_total', help: 'Lockouts set, by scope (id_network: the ID from one network; id: the ID everywhere) and reason', labelNames: ['scope', 'reason'], registers: [registry],
  });
  const signals = new Counter({
    name: 'facegate_risk_signals_total', help: 'Replay detections (replayed_frame, duplicate_frame) and injection flags (fast_frames, editing_software, timestamp_outside_session)',
    labelNames: ['signal'], registers: [registry],
  });
  const submitLatency = new Histogram({
    name: 'facegate_verification_duration_seconds', help: 'Duration of a frames submission, from receipt to answer, by its effect on the ID\'s limits (success, failure, retry, none)',
    labelNames: ['result'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
  });
  const reports = new Counter({
    name: 'facegate_identity_reports_total', help: 'Reports by citizens, from their space, of an access to their identity they did not make ("This wasn\'t me"; facegate reports list)', registers: [registry],
  });
  const observeRisk: RiskObserver = {
    risk({ stage, decision }) {
      for (const reason of decision.reasons.length ? decision.reasons : ['none']) risk.inc({ stage, action: decision.action, reason });
    },
    lockout(lock) { lockouts.inc({ scope: lock.scope, reason: lock.reason }); },
    signal(flag) { signals.inc({ signal: flag }); },
    latency(seconds, result) { submitLatency.observe({ result }, seconds); },
  };
  return {
    registry,
    http,
    observeRisk,
    /** One "This wasn't me" report from a citizen's space. */
    observeReport() { reports.inc(); },
    /** Records one capture decision and its frames' stage timings. */
    observeDecision(d: { level: string; status: string; code?: string }, analyses: ImageAnalysis[]) {
      decisions.inc({ level: d.level, status: d.status, code: d.code ?? 'none' });
      for (const a of analyses) {
        for (const [stage, ms] of Object.entries(a.timings)) if (typeof ms === 'number') stages.observe({ stage }, ms / 1000);
      }
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
