// Keyed hashes for risk control: national IDs, client networks and user agents become HMACs
// before they reach a limiter, the frame-digest table or the device table. Imports node:crypto.
import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** The network an address belongs to for "is this a new place": IPv4 /24, IPv6 /64. */
export function networkOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const addr = mapped ? mapped[1] : ip;
  if (isIPv4(addr)) return `${addr.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIPv6(addr)) {
    const [head, tail = ''] = addr.toLowerCase().split('%')[0].split('::');
    const left = head ? head.split(':') : [];
    const right = addr.includes('::') && tail ? tail.split(':') : [];
    const groups = addr.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
    return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
  }
  return 'unknown';
}

/**
 * HMACs under one secret with a label per kind, so a key of one kind never equals another's.
 * The raw values never leave this function.
 */
export function createRiskKeys(secret: string) {
  const mac = (label: string, value: string) => createHmac('sha256', secret).update(`facegate-risk/${label}\0`).update(value).digest('base64url');
  return {
    /** The normalized claimed national ID (known or not: the same computation). */
    id: (nationalId: string) => mac('id', nationalId),
    ip: (ip: string) => mac('ip', ip),
    network: (ip: string) => mac('net', networkOf(ip)),
    agent: (userAgent: string) => mac('ua', userAgent.slice(0, 512)),
  };
}

export type RiskKeys = ReturnType<typeof createRiskKeys>;
