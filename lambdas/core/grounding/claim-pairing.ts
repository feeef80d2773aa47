import type { Claim, Evidence } from '../integration.js';
import { pass, plural, type Finding } from './finding.js';

/**
 * Step 3 — claim–quote pairing. After generation every claim must cite at least one quote that
 * survived the citation check (step 7); a claim without one is retracted and the retraction is
 * recorded (`ClaimRetracted` metric). A claimed decision field (`grounding.claimFields`) that holds
 * a value but is left without any supported claim cannot act as it stands.
 */

/** The claims of a decision, read defensively (the schema allows them to be absent). */
export function claimsOf(decision: Record<string, unknown>): Claim[] {
  const raw = decision.claims;
  if (!Array.isArray(raw)) return [];
  return raw.filter((c): c is Claim => !!c && typeof c === 'object' && typeof (c as Claim).field === 'string')
    .map((c) => ({ field: c.field, statement: String(c.statement ?? ''), quote_ids: Array.isArray(c.quote_ids) ? c.quote_ids.map(String) : [] }));
}

/** Whether a decision field holds something a claim must support. */
const holdsValue = (v: unknown): boolean => v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0);

/**
 * Pairs claims with verified quotes.
 *
 * @param claims the decision's claims (after any earlier retraction)
 * @param verified the quotes that passed step 7, with their ids
 * @param claimFields fields that must keep a supported claim when they hold a value
 */
export function checkClaimPairing(claims: Claim[], verified: Evidence[], decision: Record<string, unknown>, claimFields: string[]): Finding & { supported: Claim[] } {
  const ids = new Set(verified.map((e) => e.id).filter((id): id is string => typeof id === 'string'));
  const supported: Claim[] = [];
  const unpaired: Array<Claim & { reason: string }> = [];
  for (const c of claims) {
    const cited = c.quote_ids.filter((id) => ids.has(id));
    if (c.quote_ids.length === 0) unpaired.push({ ...c, reason: 'cites no quote' });
    else if (cited.length === 0) unpaired.push({ ...c, reason: `cites ${c.quote_ids.join(', ')}, none of them a verified quote` });
    else supported.push(c);
  }
  const unsupportedFields = claimFields.filter((f) => holdsValue(decision[f]) && !supported.some((c) => c.field === f));
  if (unpaired.length === 0 && unsupportedFields.length === 0) {
    return { ...pass('claim-pairing', 3, `${plural(claims.length, 'claim')}, each paired to a verified quote; ${claimFields.filter((f) => holdsValue(decision[f])).join(', ') || 'no field'} supported.`), supported };
  }
  const parts: string[] = [];
  if (unpaired.length) parts.push(`${plural(unpaired.length, 'claim')} without a verified quote (${unpaired.map((c) => `${c.field}: ${c.reason}`).join('; ')})`);
  if (unsupportedFields.length) parts.push(`${unsupportedFields.join(', ')} ${unsupportedFields.length === 1 ? 'has' : 'have'} no supported claim`);
  return {
    check: 'claim-pairing', step: 3, ok: false, supported,
    detail: `${parts.join('; ')}.`,
    data: { unpaired, unsupportedFields },
    retractClaims: unpaired.map(({ reason: _r, ...c }) => c),
    unretractable: unsupportedFields.length > 0,
  };
}
