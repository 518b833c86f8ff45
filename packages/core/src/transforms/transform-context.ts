/** An HMAC key as the key ring hands it over: the id goes into the waybill, the secret never does. */
export interface HmacKey {
  /** Stable, non-secret identifier of the key version (recorded in the waybill). */
  readonly keyId: string;
  /** The key material. Never logged, recorded or put into an error message. */
  readonly secret: Uint8Array;
}

/**
 * What transforms need from their surroundings at compile time. Today that is only the HMAC keys of
 * `hash_keyed`, looked up by the name the definition uses (`key: customer-pseudonyms`).
 *
 * @example
 * ```ts
 * const ctx: TransformContext = { hmacKey: (name) => keyRing.hmacKey(name) };
 * ```
 */
export interface TransformContext {
  /**
   * Returns the current key for `name`. Throw a `WaybillError` (e.g. `ERR_WAYBILL_KEY_NOT_FOUND`) when there
   * is none; other errors are wrapped as `ERR_WAYBILL_SECRET_UNAVAILABLE`.
   */
  hmacKey(name: string): HmacKey;
}
