import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { WaybillError } from '@waybill/verify';

// `canonicalize` is CommonJS (`module.exports = serialize`) but its typings declare an ES default export;
// under NodeNext the default import is `module.exports` itself, i.e. the function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/**
 * RFC 8785 (JCS) canonical JSON. Everything Waybill hashes or signs goes through here, so two parties
 * that hold the same value compute the same bytes.
 */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) {
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'value cannot be represented as canonical JSON');
  }
  return out;
}

/** `sha256:<hex>` of the canonical JSON of a value. */
export function canonicalDigest(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

// Characters JSON.stringify would escape or treat specially: ", \\, C0 controls, and surrogates.
// eslint-disable-next-line no-control-regex -- matching control characters is the point here
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * A fast RFC 8785 encoder for flat records whose keys are known up front. The key order is computed
 * once (JCS §3.2.3 sorts by UTF-16 code units, which is what Array#sort compares), so per row it only
 * serializes values. For strings and finite numbers, JCS is exactly ECMAScript's JSON.stringify (§3.2.2).
 * A test checks it byte for byte against the `canonicalize` package.
 */
export class FlatRecordEncoder {
  /** Positions of the keys in sorted order. */
  private readonly order: number[];
  private readonly prefixes: string[];

  constructor(private readonly keys: readonly string[]) {
    const idx = keys.map((_, i) => i);
    idx.sort((a, b) => {
      const ka = keys[a]!;
      const kb = keys[b]!;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    this.order = idx;
    this.prefixes = idx.map((i, n) => `${n === 0 ? '{' : ','}${JSON.stringify(keys[i])}:`);
  }

  /** Encodes `values` (in the constructor's key order) as canonical JSON. */
  encode(values: readonly (string | number | boolean | null)[]): string {
    const order = this.order;
    if (order.length === 0) return '{}';
    let s = '';
    for (let n = 0; n < order.length; n++) {
      const v = values[order[n]!];
      s += this.prefixes[n]!;
      if (v === null || v === undefined) s += 'null';
      else if (typeof v === 'number') {
        if (!Number.isFinite(v)) {
          throw new WaybillError(
            'ERR_WAYBILL_INVALID_INPUT',
            'non-finite number in a record cannot be hashed',
          );
        }
        s += JSON.stringify(v);
      } else if (typeof v === 'string' && !NEEDS_ESCAPE.test(v)) {
        // Nothing to escape (JCS §3.2.2.2 escapes only ", \, control characters; lone surrogates are
        // handled by JSON.stringify): the quoted string is its own serialization.
        s += '"' + v + '"';
      } else {
        if (typeof v === 'string' && !v.isWellFormed()) {
          // RFC 8785 §3.2.2.2: a lone surrogate has no canonical form, so such a record cannot be hashed.
          throw new WaybillError(
            'ERR_WAYBILL_SOURCE_ROW_INVALID',
            `field "${this.keys[order[n]!]}" holds text that is not valid Unicode (a lone surrogate)`,
          );
        }
        s += JSON.stringify(v);
      }
    }
    return s + '}';
  }
}
