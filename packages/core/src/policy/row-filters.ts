import { WaybillError } from '@waybill/verify';
import type { PolicyDecision, PolicyEngine } from './policy-engine.js';

/** A row filter a policy put on a run, with the requester's attributes filled in. */
export interface PolicyRowFilter {
  readonly policyId: string;
  /** CEL over the source's columns, `requester.<name>` replaced by the requester's value. */
  readonly expression: string;
}

const REFERENCE = /\brequester\.([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * The row filters of the policies that allowed a run (`@rowFilter("…")` on a permit of `export.run`),
 * each with `requester.<attribute>` replaced by the requester's attribute as a CEL string literal.
 * Outside string literals only: `"requester.x"` in quotes stays text. Every filter of every permit that
 * allowed the run applies (they are ANDed), so a second permit cannot widen what one narrows.
 *
 * Throws `ERR_WAYBILL_POLICY_DENIED` when a filter reads an attribute the requester does not have: the
 * run is refused rather than run unfiltered.
 */
export function rowFiltersOf(
  engine: PolicyEngine,
  decision: PolicyDecision,
  requester: { readonly name: string; readonly attributes?: Readonly<Record<string, string>> },
): PolicyRowFilter[] {
  const out: PolicyRowFilter[] = [];
  for (const id of decision.policyIds) {
    const text = engine.policy(id)?.rowFilter;
    if (text === undefined) continue;
    out.push({ policyId: id, expression: bindRequester(text, id, requester) });
  }
  return out;
}

function bindRequester(
  text: string,
  policyId: string,
  requester: { readonly name: string; readonly attributes?: Readonly<Record<string, string>> },
): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      // Copy a string literal as it is (with its escapes), up to its closing quote.
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < text.length && text[j] !== '"' && text[j] !== "'") j++;
    out += text.slice(i, j).replace(REFERENCE, (_m, name: string) => {
      const v = requester.attributes?.[name];
      if (v === undefined) {
        throw new WaybillError(
          'ERR_WAYBILL_POLICY_DENIED',
          `policy "${policyId}" filters the rows by requester.${name}, and ${requester.name} has no attribute "${name}"; set it with \`waybill user set-attr ${requester.name} ${name}=…\``,
        );
      }
      return JSON.stringify(v);
    });
    i = j;
  }
  return out;
}
