import { HALLUCINATION_CHECKS } from '../../lambdas/core/grounding/playbook.js';
import type { DecisionSummary } from '../../lambdas/core/trace.js';
import { getIntegration } from '../../lambdas/integrations/index.js';

/** Pads or cuts a cell to a width. */
export const cell = (v: unknown, width: number): string => {
  const s = v === undefined || v === null ? '' : String(v);
  return s.length > width ? `${s.slice(0, width - 1)}…` : s.padEnd(width);
};

/** One line describing what a decision came to. */
export function describeDecision(s: DecisionSummary): string {
  const d = s.decision ?? {};
  if (s.outcome === 'acted' || s.outcome === 'baseline') {
    const acts = s.actions.map((a) => `${a.action}${a.status === 'executed' ? '' : ` (${a.status})`}`).join(', ') || 'no actions';
    // The fields the integration's eval scores (other than the outcome) are the ones that matter.
    const fields = (getIntegration(s.integration)?.eval.fields ?? []).filter((f) => f.name !== 'outcome' && f.compare === 'exact').map((f) => d[f.name] ?? '?');
    return `${fields.join('/')} conf ${d.confidence ?? '?'} → ${acts}`;
  }
  return `${s.code ?? ''}: ${s.reason ?? ''}`;
}

/**
 * Compact check marks: `schema✓ grounding 6✓ evidence✓ conf✓` when every grounding check that ran
 * passed, else the grounding checks that did not by name (`claims✗ quotes↶`); skipped checks left out.
 */
export function describeChecks(s: DecisionSummary): string {
  const mark = (v: string) => (v === 'pass' ? '✓' : v === 'retracted' ? '↶' : v === 'skipped' ? '-' : v === 'overridden' ? '⚑' : '✗');
  const names: Record<string, string> = {
    'output-schema': 'schema', 'reasoning-first': 'reasoning', 'quotes-first': 'quotes-first', citations: 'citations', 'source-whitelist': 'sources', 'quote-exists': 'quotes',
    'closed-book': 'closed-book', 'fresh-evaluator': 'evaluator', 'claim-pairing': 'claims', divergence: 'canary', 'min-evidence': 'evidence', 'confidence-floor': 'conf',
  };
  const ran = s.checks.filter((c) => c.verdict !== 'skipped');
  const grounding = ran.filter((c) => HALLUCINATION_CHECKS.has(c.check));
  const out: string[] = [];
  let groundingShown = false;
  for (const c of ran) {
    if (HALLUCINATION_CHECKS.has(c.check)) {
      if (groundingShown) continue;
      groundingShown = true;
      const odd = grounding.filter((g) => g.verdict !== 'pass');
      out.push(odd.length === 0 ? `grounding ${grounding.length}✓` : odd.map((g) => `${names[g.check] ?? g.check}${mark(g.verdict)}`).join(' '));
    } else out.push(c.check === 'abstain' ? (c.verdict === 'pass' ? '' : `abstained${c.verdict === 'overridden' ? '⚑' : ''}`) : `${names[c.check] ?? c.check}${mark(c.verdict)}`);
  }
  return out.filter(Boolean).join(' ');
}

/** `814/196` plus the cache share: `814/196 +1059w` (cache written) or `+1059r` (read). */
export function describeTokens(s: DecisionSummary): string {
  if (!s.tokens) return '';
  const t = s.tokens;
  return `${t.input}/${t.output}${t.cacheWrite ? ` +${t.cacheWrite}w` : ''}${t.cacheRead ? ` +${t.cacheRead}r` : ''}`;
}

/** Text for an HTML report: `&`, `<`, `>` and `"` escaped. */
export const escapeHtml = (s: unknown): string => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
