import { createHash } from 'node:crypto';
import { WaybillError } from './waybill-error.js';
import { decodeUtf8Strict } from './lib/utf8-text.js';

/**
 * Domain separation for audit-log leaves (ARCHITECTURE.md "The audit log"): a leaf commits to
 * `SHA-256(domain || salt || canonical JSON of the event)`, so a leaf can never be confused with a hash
 * computed for another purpose, and the salt keeps a redacted (erased) event from being guessed back
 * from its leaf.
 */
export const AUDIT_LEAF_DOMAIN = Buffer.from('waybill-audit-leaf-v1\0', 'latin1');

/** The event that seals an export; a waybill's receipt proves that one is in the log. */
export const SEAL_EVENT_TYPE = 'run.sealed';

/** Bytes of random salt in every audit leaf. */
export const AUDIT_SALT_SIZE = 32;

/** An audit event as logged: what `canonical JSON of the event` is made of. */
export interface AuditEvent {
  /** 0-based position in the log; part of the commitment, so moving an entry is detected. */
  readonly index: number;
  /** e.g. `run.sealed`, `definition.applied`. */
  readonly type: string;
  /** RFC 3339 UTC. */
  readonly time: string;
  /** Who acted: `user:alice`, `service:ci`, `system`. */
  readonly actor: string;
  readonly workspace: string;
  /** Ids of what the event is about (`run`, `definition`, `connection`, `key`, …). */
  readonly subjects: Readonly<Record<string, string>>;
  /** Never a secret. */
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * The audit-log leaf: `SHA-256(AUDIT_LEAF_DOMAIN || salt || event)` where `event` is the event's RFC 8785
 * canonical JSON, byte for byte. Its RFC 9162 leaf hash is `merkleLeafHash(leaf)`.
 *
 * @example
 * ```ts
 * const leafHash = merkleLeafHash(auditLeaf(salt, Buffer.from(canonicalJson(event))));
 * ```
 */
export function auditLeaf(salt: Uint8Array, event: Uint8Array): Buffer {
  if (salt.length !== AUDIT_SALT_SIZE) {
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `an audit salt is ${AUDIT_SALT_SIZE} bytes`);
  }
  return createHash('sha256').update(AUDIT_LEAF_DOMAIN).update(salt).update(event).digest();
}

/**
 * The opening of an audit leaf, as carried by the `extra` line of a Waybill tlog-proof: the salt
 * followed by the event's canonical JSON. Anyone holding it can recompute the leaf and read the event.
 *
 * @example
 * ```ts
 * const extra = auditLeafOpening(salt, eventBytes); // formatTlogProof({ extra, … })
 * ```
 */
export function auditLeafOpening(salt: Uint8Array, event: Uint8Array): Buffer {
  return Buffer.concat([salt, event]);
}

/**
 * Splits an opening (see {@link auditLeafOpening}) into its leaf and event. Throws
 * `ERR_WAYBILL_PROOF_INVALID` when the event is not a JSON object of the documented shape.
 *
 * @example
 * ```ts
 * const { leaf, event } = openAuditLeaf(parseTlogProof(receipt).extra!);
 * ```
 */
export function openAuditLeaf(opening: Uint8Array): { leaf: Buffer; event: AuditEvent } {
  if (opening.length <= AUDIT_SALT_SIZE) throw bad('it is too short to hold a salt and an event');
  const salt = opening.subarray(0, AUDIT_SALT_SIZE);
  const eventBytes = opening.subarray(AUDIT_SALT_SIZE);
  const text = decodeUtf8Strict(eventBytes);
  if (text === null) throw bad('the event is not valid UTF-8');
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    throw bad('the event is not JSON');
  }
  if (!isAuditEvent(event))
    throw bad('the event lacks index, type, time, actor, workspace, subjects or details');
  return { leaf: auditLeaf(salt, eventBytes), event };
}

function isAuditEvent(v: unknown): v is AuditEvent {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const e = v as Record<string, unknown>;
  const isObject = (x: unknown): boolean => typeof x === 'object' && x !== null && !Array.isArray(x);
  return (
    Number.isSafeInteger(e['index']) &&
    (e['index'] as number) >= 0 &&
    typeof e['type'] === 'string' &&
    typeof e['time'] === 'string' &&
    typeof e['actor'] === 'string' &&
    typeof e['workspace'] === 'string' &&
    isObject(e['subjects']) &&
    Object.values(e['subjects'] as object).every((s) => typeof s === 'string') &&
    isObject(e['details'])
  );
}

function bad(reason: string): WaybillError {
  return new WaybillError(
    'ERR_WAYBILL_PROOF_INVALID',
    `the logged entry in the proof is malformed: ${reason}`,
  );
}
