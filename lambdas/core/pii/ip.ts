import { before, disjoint, scan, whole, type Span } from './kinds.js';

// Four dot-separated groups of one to three digits, not part of a longer dotted run (OIDs such as
// 1.3.6.1.4.1 stay) and not glued to a word (`v1.2.3.4` stays: the `v` is a word character).
const IPV4 = /(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)/g;

// An IPv6 candidate: a bounded run of hex digits, colons and dots (for an IPv4 tail) starting a
// word; {@link ipv6Valid} decides. The bound keeps a long run of hex from costing more than 45
// steps per word.
const IPV6 = /(?<![\w:.%])[0-9A-Fa-f:.]{2,45}(?!\w)/g;

// Words after which a dotted quad is a version, not an address (`version 1.2.3.4`, `Chrome/120.0.0.0`,
// `upgraded the agent to 1.2.3.4`). "Updated … to" is not among them: records and settings are
// updated to addresses as often as software is updated to versions, and a missed address costs more.
const VERSION_CONTEXT =
  /(?:\b(?:v|versions?|ver\.?|build|release[sd]?|firmware|fw|rev(?:ision)?|sdk|(?:upgrad|downgrad|bump|pinn)(?:e|ed|es|ing)?(?:\s+[\w.-]+){0,3}\s+to|installed)\s*(?:[:=]|is|was|of|on)?\s*|[A-Za-z]\/)$/i;
// And suffixes that only versions carry (`1.2.3.4-beta`, `1.2.3.4+build.5`).
const VERSION_SUFFIX = /^(?:-(?:alpha|beta|rc|dev|snapshot|preview|pre)|\+)/i;

/**
 * IP addresses. IPv4: a dotted quad whose octets are 0–255 without leading zeros, unless the
 * words before it make it a version or it is loopback, unspecified, broadcast or a netmask.
 * IPv6: eight groups, or fewer with one `::`, optionally ending in an IPv4 tail; it must contain a
 * digit and name at least two groups, so `::1`, `Foo::Bar` and `dead::beef` stay.
 */
export function findIps(text: string): Span[] {
  const v6 = scan(IPV6, text, (m) => {
    // A sentence's full stop, or the colon of `2001:db8::1: connection refused`, is not part of it.
    const value = m[0].replace(/\.+$/, '').replace(/(?<!:):$/, '');
    return value.includes(':') && ipv6Valid(value) ? { start: m.index, end: m.index + value.length } : undefined;
  });
  const v4 = scan(IPV4, text, (m) => {
    if (!ipv4Valid(m[0]) || !identifiesAHost(m[0])) return undefined;
    if (VERSION_CONTEXT.test(before(text, m.index, 30))) return undefined;
    if (VERSION_SUFFIX.test(text.slice(m.index + m[0].length, m.index + m[0].length + 12))) return undefined;
    return whole(m);
  });
  return disjoint([...v6, ...v4]);
}

// Loopback (127/8), the unspecified 0.0.0.0 and anything starting 255 (broadcast, netmasks such
// as 255.255.255.0) name no one's machine; `::1` and `::` are left alone for the same reason.
function identifiesAHost(quad: string): boolean {
  const first = quad.split('.')[0];
  return first !== '127' && first !== '255' && quad !== '0.0.0.0';
}

/** True for a dotted quad of decimal octets 0–255 written without leading zeros. */
export function ipv4Valid(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** True for an IPv6 address (RFC 4291 text forms) that contains a digit and at least two groups. */
export function ipv6Valid(s: string): boolean {
  let body = s;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  let v4Groups = 0;
  if (tail.includes('.')) {
    if (!ipv4Valid(tail)) return false;
    body = s.slice(0, lastColon + 1) + '0:0';
    v4Groups = 2;
  }
  if (body.includes('.') || body.includes(':::')) return false;
  const hex = /^[0-9A-Fa-f]{1,4}$/;
  const halves = body.split('::');
  let groups: string[];
  if (halves.length === 1) {
    groups = body.split(':');
    if (groups.length !== 8) return false;
  } else if (halves.length === 2) {
    const left = halves[0] === '' ? [] : halves[0].split(':');
    const right = halves[1] === '' ? [] : halves[1].split(':');
    groups = [...left, ...right];
    if (groups.length > 7) return false;
  } else return false;
  if (!groups.every((g) => hex.test(g))) return false;
  const named = groups.length - v4Groups + (v4Groups > 0 ? 1 : 0);
  return named >= 2 && /\d/.test(s);
}
