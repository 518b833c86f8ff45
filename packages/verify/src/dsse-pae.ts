/**
 * DSSE v1 Pre-Authentication Encoding (secure-systems-lab/dsse protocol.md):
 * `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths being byte counts in ASCII decimal.
 * Signing PAE rather than the payload binds the payload type into the signature, so a payload cannot be
 * replayed under another type.
 *
 * @example
 * ```ts
 * pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString();
 * // 'DSSEv1 29 http://example.com/HelloWorld 11 hello world'
 * ```
 */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}
