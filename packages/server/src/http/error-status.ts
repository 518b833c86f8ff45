import type { WaybillErrorCode } from '@waybill/verify';

/**
 * The HTTP status of every Waybill error code: the one table the server maps errors with (STYLE.md §5).
 *
 * Typed as a `Record` over the whole `WaybillErrorCode` union, so adding a code to `@waybill/verify`
 * without choosing its status here fails to compile. docs/errors.md ("HTTP status") renders this table;
 * a test keeps the two equal.
 *
 * How the statuses were chosen (RFC 9110 §15):
 * - 400 for a request that is malformed or names something malformed (the caller must change it);
 * - 403 for a known caller that may not do this, including a purpose the definition does not allow;
 * - 409 for a request that clashes with the current state (retrying after the state changes may work);
 * - 422 for content that is well-formed but does not hold (a verified waybill that fails a check, output
 *   that fails validation, a transform that cannot handle a value);
 * - 502 when a system Waybill reads from or writes to failed or sent what cannot be used;
 * - 503 when the store or a secret is unavailable right now (an operator can fix it, a retry may work);
 * - 500 for the server's own broken state and for bugs.
 *
 * @example
 * ```ts
 * ERROR_STATUS.ERR_WAYBILL_NOT_FOUND; // 404
 * ```
 */
export const ERROR_STATUS: Readonly<Record<WaybillErrorCode, number>> = Object.freeze({
  ERR_WAYBILL_USAGE: 400,
  ERR_WAYBILL_INVALID_INPUT: 400,
  ERR_WAYBILL_DEFINITION_INVALID: 400,
  ERR_WAYBILL_EXPRESSION_INVALID: 400,
  ERR_WAYBILL_TRANSFORM_INVALID: 400,
  ERR_WAYBILL_TRANSFORM_FAILED: 422,
  ERR_WAYBILL_NOT_FOUND: 404,
  ERR_WAYBILL_PURPOSE_NOT_ALLOWED: 403,
  ERR_WAYBILL_CONFLICT: 409,
  ERR_WAYBILL_CONNECTION_INVALID: 400,
  ERR_WAYBILL_SOURCE_FAILED: 502,
  ERR_WAYBILL_SOURCE_ROW_INVALID: 502,
  ERR_WAYBILL_DESTINATION_FAILED: 502,
  ERR_WAYBILL_EGRESS_DENIED: 403,
  ERR_WAYBILL_VALIDATION_FAILED: 422,
  ERR_WAYBILL_SECRET_UNAVAILABLE: 503,
  ERR_WAYBILL_KEY_NOT_FOUND: 500,
  ERR_WAYBILL_HOME_INVALID: 500,
  ERR_WAYBILL_STORE_FAILED: 503,
  ERR_WAYBILL_RUN_FAILED: 500,
  ERR_WAYBILL_ENVELOPE_MALFORMED: 422,
  ERR_WAYBILL_SIGNATURE_INVALID: 422,
  ERR_WAYBILL_UNKNOWN_KEY: 422,
  ERR_WAYBILL_STATEMENT_INVALID: 422,
  ERR_WAYBILL_FILE_MISSING: 422,
  ERR_WAYBILL_UNEXPECTED_FILE: 422,
  ERR_WAYBILL_DIGEST_MISMATCH: 422,
  ERR_WAYBILL_RECORDS_MISMATCH: 422,
  ERR_WAYBILL_LINEAGE_INVALID: 422,
  ERR_WAYBILL_PROOF_INVALID: 422,
  ERR_WAYBILL_NOTE_INVALID: 422,
  ERR_WAYBILL_RECEIPT_MISMATCH: 422,
  // The log no longer matches what was signed: the server refuses to go on, and that is its own state.
  ERR_WAYBILL_LOG_TAMPERED: 500,
  ERR_WAYBILL_UNAUTHENTICATED: 401,
  ERR_WAYBILL_FORBIDDEN: 403,
  ERR_WAYBILL_POLICY_DENIED: 403,
  ERR_WAYBILL_POLICY_INVALID: 400,
  ERR_WAYBILL_NOT_APPROVED: 409,
  ERR_WAYBILL_PAYLOAD_TOO_LARGE: 413,
  ERR_WAYBILL_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_WAYBILL_SERVER_UNREACHABLE: 502,
  ERR_WAYBILL_INTERNAL: 500,
});

/**
 * The HTTP status for an error code.
 *
 * @example
 * ```ts
 * reply.status(httpStatusOf(err.code)).send({ error: { code: err.code, message: err.message } });
 * ```
 */
export function httpStatusOf(code: WaybillErrorCode): number {
  // A code from a newer @waybill/verify than this table was compiled against is still an error: 500.
  return ERROR_STATUS[code] ?? 500;
}

/** Every error code, in the order of the table (the OpenAPI error schema's `enum`). */
export const ERROR_CODES: readonly WaybillErrorCode[] = Object.freeze(
  Object.keys(ERROR_STATUS) as WaybillErrorCode[],
);
