import { WaybillError } from './waybill-error.js';

/**
 * RFC 8785 (JCS) canonical JSON of a JSON value: object members sorted by the UTF-16 code units of
 * their names (§3.2.3), no whitespace, strings and numbers serialized as ECMAScript's JSON.stringify
 * does (§3.2.2.2, §3.2.2.3). Waybill hashes records and signs statements in this form, so two parties
 * holding the same value compute the same bytes.
 *
 * Throws `ERR_WAYBILL_INVALID_INPUT` for values JSON cannot carry exactly: non-finite numbers, lone
 * surrogates (§3.2.2.2 requires well-formed Unicode), `undefined`, bigints, functions, and objects that
 * are not plain (Date, Map…), whose JSON form would depend on `toJSON`.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(value: unknown, at: string): string {
  switch (typeof value) {
    case 'string':
      if (/\p{Surrogate}/u.test(value)) throw invalid(at, 'a string with a lone UTF-16 surrogate');
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw invalid(at, `the number ${value}`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((v, i) => encode(v, `${at}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null)
        throw invalid(at, 'an object that is not a plain object');
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      return `{${keys.map((k) => `${encode(k, at)}:${encode(record[k], `${at}.${k}`)}`).join(',')}}`;
    }
    default:
      throw invalid(at, `a value of type ${typeof value}`);
  }
}

function invalid(at: string, what: string): WaybillError {
  return new WaybillError(
    'ERR_WAYBILL_INVALID_INPUT',
    `${at} is ${what}, which has no RFC 8785 canonical JSON form`,
  );
}
