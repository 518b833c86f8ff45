import type { DerivedColumn } from '../ports/source.js';
/** The predicate type of a Waybill export attestation (docs/waybill-format.md). */
export const EXPORT_PREDICATE_TYPE = 'https://waybill.dev/export/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

export interface PredicateField {
  readonly name: string;
  readonly description: string | null;
  /** Source column(s) the value came from: one for a copied field, the references of a computed one. */
  readonly origin: readonly string[];
  readonly sourceType: string | null;
  /** The higher of the definition's declared classification and the catalog's for the origin columns. */
  readonly classification: string | null;
  /** The kind of personal data the catalog says the origin holds, if any. */
  readonly piiKind: string | null;
  readonly declaredType: string | null;
  /** Transform with its parameters as recorded (key ids, never keys), or null when copied as is. */
  readonly transform: Readonly<Record<string, unknown>> | null;
  readonly computed: { readonly language: 'cel'; readonly expression: string } | null;
  /** False for dropped fields: declared and recorded, but not in the output. */
  readonly emitted: boolean;
  /** How the app itself computes the origin columns (formula, lookup, rollup), when it does. */
  readonly sourceLogic?: readonly (DerivedColumn & { readonly column: string })[];
}

export interface ValidationGateResult {
  readonly gate: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** One approval recorded in a waybill. */
export interface PredicateApproval {
  /** As the audit log names the approver: `user:bob`. */
  readonly approver: string;
  readonly roles: readonly string[];
  readonly reason: string;
  readonly approvedAt: string;
  readonly expiresAt: string;
}

/** The body of `https://waybill.dev/export/v1`; docs/predicate.schema.json is its JSON Schema. */
export interface ExportPredicate {
  readonly waybillVersion: '1';
  readonly runId: string;
  readonly definition: {
    readonly name: string;
    readonly version: string;
    readonly owner: string;
    readonly description: string | null;
  };
  readonly requester: string;
  readonly purpose: string;
  /** The approvals that held when the run started. */
  readonly approvals: readonly PredicateApproval[];
  readonly policy: {
    readonly decision: 'allow';
    /** The policies that allowed the run. */
    readonly policyIds: readonly string[];
    /** `sha256:<hex>` of the policy set in force. */
    readonly policySetDigest: string | null;
    /** The export request the run executes. */
    readonly exportId?: string;
    readonly kind?: 'business' | 'exception' | 'investigation';
    readonly justification?: string | null;
    readonly note?: string;
  };
  readonly source: {
    readonly connection: string;
    readonly kind: string;
    readonly instance: string;
    readonly table: string;
    readonly recordId: string;
    readonly updatedAt: string | null;
  };
  readonly fields: readonly PredicateField[];
  readonly filter: {
    readonly language: 'cel';
    readonly expression: string;
    readonly references: readonly string[];
  } | null;
  readonly format: 'csv' | 'ndjson';
  readonly counts: { readonly read: number; readonly filtered: number; readonly written: number };
  readonly destination: { readonly connection: string; readonly kind: string; readonly location: string };
  readonly timestamps: Readonly<Record<'created' | 'staged' | 'validated' | 'delivered' | 'signed', string>>;
  readonly retention: { readonly period: string; readonly expiresAt: string };
  readonly records: {
    readonly file: 'records.jsonl';
    readonly count: number;
    readonly merkleRoot: string;
    readonly digest: 'sha256(RFC 8785 canonical JSON of the output record)';
    readonly tree: 'RFC 9162 §2.1, leaf = the 32-byte record digest';
  };
  readonly validation: readonly ValidationGateResult[];
  /** Set when the payload left encrypted to recipients (age): the subject is the ciphertext. */
  readonly encryption?: {
    readonly format: 'age-encryption.org/v1';
    readonly recipients: readonly string[];
    readonly plaintext: { readonly name: string; readonly bytes: number; readonly sha256: string };
  };
  readonly signingKeyId: string;
}
