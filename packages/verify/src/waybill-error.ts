/**
 * Every stable error code Waybill can produce. Codes never change meaning once released; the server maps
 * each to an HTTP status in one table and docs/errors.md documents each one.
 */
export type WaybillErrorCode =
  | 'ERR_WAYBILL_USAGE'
  | 'ERR_WAYBILL_INVALID_INPUT'
  | 'ERR_WAYBILL_DEFINITION_INVALID'
  | 'ERR_WAYBILL_EXPRESSION_INVALID'
  | 'ERR_WAYBILL_TRANSFORM_INVALID'
  | 'ERR_WAYBILL_TRANSFORM_FAILED'
  | 'ERR_WAYBILL_NOT_FOUND'
  | 'ERR_WAYBILL_PURPOSE_NOT_ALLOWED'
  | 'ERR_WAYBILL_CONFLICT'
  | 'ERR_WAYBILL_CONNECTION_INVALID'
  | 'ERR_WAYBILL_SOURCE_FAILED'
  | 'ERR_WAYBILL_SOURCE_ROW_INVALID'
  | 'ERR_WAYBILL_DESTINATION_FAILED'
  | 'ERR_WAYBILL_EGRESS_DENIED'
  | 'ERR_WAYBILL_VALIDATION_FAILED'
  | 'ERR_WAYBILL_SECRET_UNAVAILABLE'
  | 'ERR_WAYBILL_KEY_NOT_FOUND'
  | 'ERR_WAYBILL_HOME_INVALID'
  | 'ERR_WAYBILL_STORE_FAILED'
  | 'ERR_WAYBILL_RUN_FAILED'
  | 'ERR_WAYBILL_ENVELOPE_MALFORMED'
  | 'ERR_WAYBILL_SIGNATURE_INVALID'
  | 'ERR_WAYBILL_UNKNOWN_KEY'
  | 'ERR_WAYBILL_STATEMENT_INVALID'
  | 'ERR_WAYBILL_FILE_MISSING'
  | 'ERR_WAYBILL_UNEXPECTED_FILE'
  | 'ERR_WAYBILL_DIGEST_MISMATCH'
  | 'ERR_WAYBILL_RECORDS_MISMATCH'
  | 'ERR_WAYBILL_LINEAGE_INVALID'
  | 'ERR_WAYBILL_PROOF_INVALID'
  | 'ERR_WAYBILL_NOTE_INVALID'
  | 'ERR_WAYBILL_RECEIPT_MISMATCH'
  | 'ERR_WAYBILL_LOG_TAMPERED'
  | 'ERR_WAYBILL_UNAUTHENTICATED'
  | 'ERR_WAYBILL_FORBIDDEN'
  | 'ERR_WAYBILL_POLICY_DENIED'
  | 'ERR_WAYBILL_POLICY_INVALID'
  | 'ERR_WAYBILL_NOT_APPROVED'
  | 'ERR_WAYBILL_PAYLOAD_TOO_LARGE'
  | 'ERR_WAYBILL_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_WAYBILL_SERVER_UNREACHABLE'
  | 'ERR_WAYBILL_INTERNAL';

/**
 * The one error base of Waybill (STYLE.md §5). `code` is stable and documented; `message` says what was
 * wrong, with which input, and what to do. Foreign errors are attached as `cause`, never interpolated
 * when they could carry a secret.
 *
 * @example
 * ```ts
 * try { await run() } catch (e) { if (e instanceof WaybillError && e.code === 'ERR_WAYBILL_NOT_FOUND') … }
 * ```
 */
export class WaybillError extends Error {
  readonly code: WaybillErrorCode;

  constructor(code: WaybillErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = this.constructor.name;
  }
}

/** Wraps an error from outside Waybill with a code and a message, keeping it as `cause`. */
export function wrapError(err: unknown, code: WaybillErrorCode, message: string): WaybillError {
  if (err instanceof WaybillError) return err;
  return new WaybillError(code, message, { cause: err });
}
