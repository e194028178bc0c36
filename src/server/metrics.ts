// Prometheus metrics (prom-client) on a registry of this app's own: HTTP latency by route,
// capture decisions, and the cost of each face-analysis stage. Exposed at /metrics.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ImageAnalysis } from '../biometrics/engine.ts';

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
  return {
    registry,
    http,
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
