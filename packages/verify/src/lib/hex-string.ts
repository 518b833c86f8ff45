/** True when `value` is a string of exactly `length` lowercase hexadecimal digits. */
export function isLowerHex(value: unknown, length: number): value is string {
  return typeof value === 'string' && value.length === length && /^[0-9a-f]*$/.test(value);
}
