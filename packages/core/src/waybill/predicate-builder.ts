import type { SourceColumn } from '../ports/source.js';
import type { PayloadEncryption } from '../pipeline/age-payload.js';
import type { ExportDefinition } from '../definitions/export-definition-schema.js';
import type { ExportPlan } from '../pipeline/export-plan.js';
import type { RunAuthorization } from '../pipeline/export-service.js';
import type { ConnectionRecord, FieldClassification, RunRecord } from '../ports/store.js';
import { addIsoDuration } from '../time/iso-duration.js';
import type { ExportPredicate, PredicateField, ValidationGateResult } from './export-predicate.js';

/** Everything the predicate records about one run (docs/predicate.schema.json). */
export interface PredicateInput {
  run: RunRecord;
  definition: ExportDefinition;
  version: string;
  plan: ExportPlan;
  sourceConn: ConnectionRecord;
  sourceKind: string;
  sourceInstance: string;
  destConn: ConnectionRecord;
  location: string;
  counts: { read: number; filtered: number; written: number };
  merkleRoot: string;
  gates: ValidationGateResult[];
  times: Record<'created' | 'staged' | 'validated' | 'delivered' | 'signed', string>;
  signingKeyId: string;
  /** The approved export request this run executes; absent for a run made straight through the library. */
  authorization?: RunAuthorization;
  /** The catalog's classifications of the source table's columns, when it is catalogued. */
  catalog?: Readonly<Record<string, FieldClassification>>;
  /** The payload's encryption to recipients, when the destination asks for it. */
  encryption?: PayloadEncryption;
  /** The source's columns, for the app-side logic of derived ones (formula, lookup, rollup). */
  sourceColumns?: readonly SourceColumn[];
}

const ORDER = ['public', 'internal', 'confidential', 'restricted'];

/** A field's classification: the higher of what the definition declares and what the catalog says of its columns. */
function effectiveClass(
  declared: string | undefined,
  origin: readonly string[],
  catalog: Readonly<Record<string, FieldClassification>>,
): { classification: string | null; piiKind: string | null } {
  let rank = declared ? ORDER.indexOf(declared) : -1;
  let piiKind: string | null = null;
  for (const c of origin) {
    const f = catalog[c];
    if (!f) continue;
    rank = Math.max(rank, ORDER.indexOf(f.sensitivity));
    piiKind ??= f.piiKind ?? null;
  }
  return { classification: rank < 0 ? null : ORDER[rank]!, piiKind };
}

export function buildPredicate(i: PredicateInput): ExportPredicate {
  const d = i.definition;
  return {
    waybillVersion: '1',
    runId: i.run.id,
    definition: { name: d.name, version: i.version, owner: d.owner, description: d.description ?? null },
    requester: i.run.requester,
    purpose: i.run.purpose,
    approvals: i.authorization ? i.authorization.approvals.map((a) => ({ ...a, roles: [...a.roles] })) : [],
    policy: i.authorization
      ? {
          decision: 'allow',
          policyIds: [...i.authorization.policyIds],
          policySetDigest: i.authorization.policySet,
          exportId: i.authorization.exportId,
          kind: i.authorization.kind,
          justification: i.authorization.justification,
        }
      : {
          decision: 'allow',
          policyIds: [],
          policySetDigest: null,
          note: 'run through the library without an export request; no policy decision',
        },
    source: {
      connection: i.sourceConn.name,
      kind: i.sourceKind,
      instance: i.sourceInstance,
      table: d.source.table,
      recordId: d.source.recordId,
      updatedAt: d.source.updatedAt ?? null,
    },
    fields: i.plan.fields.map((f) => ({
      name: f.name,
      description: f.field.description ?? null,
      origin: f.field.from !== undefined ? [f.field.from] : [...(f.compute?.references ?? [])],
      sourceType: f.sourceType,
      ...effectiveClass(
        f.field.classification,
        f.field.from !== undefined ? [f.field.from] : [...(f.compute?.references ?? [])],
        i.catalog ?? {},
      ),
      declaredType: f.field.type ?? null,
      transform: f.transform ? { type: f.transform.type, ...f.transform.recorded } : null,
      ...sourceLogicOf(
        f.field.from !== undefined ? [f.field.from] : [...(f.compute?.references ?? [])],
        i.sourceColumns ?? [],
      ),
      computed: f.compute ? { language: 'cel', expression: f.compute.source } : null,
      emitted: !f.transform?.drops,
    })),
    filter: i.plan.filter
      ? { language: 'cel', expression: i.plan.filter.source, references: [...i.plan.filter.references] }
      : null,
    format: d.format,
    counts: i.counts,
    destination: { connection: i.destConn.name, kind: i.destConn.kind, location: i.location },
    timestamps: i.times,
    retention: {
      period: d.retention,
      expiresAt: addIsoDuration(new Date(i.times.signed), d.retention).toISOString(),
    },
    records: {
      file: 'records.jsonl',
      count: i.counts.written,
      merkleRoot: i.merkleRoot,
      digest: 'sha256(RFC 8785 canonical JSON of the output record)',
      tree: 'RFC 9162 §2.1, leaf = the 32-byte record digest',
    },
    validation: i.gates,
    ...(i.encryption
      ? {
          encryption: {
            format: i.encryption.format,
            recipients: [...i.encryption.recipients],
            plaintext: { ...i.encryption.plaintext },
          },
        }
      : {}),
    signingKeyId: i.signingKeyId,
  };
}

/** The app-side logic of the derived columns among `origin`, as a field's `sourceLogic` (omitted when none). */
function sourceLogicOf(
  origin: readonly string[],
  columns: readonly SourceColumn[],
): { sourceLogic?: NonNullable<PredicateField['sourceLogic']> } {
  const logic = origin.flatMap((column) => {
    const d = columns.find((c) => c.name === column)?.derived;
    return d ? [{ column, ...d, ...(d.references ? { references: [...d.references] } : {}) }] : [];
  });
  return logic.length > 0 ? { sourceLogic: logic } : {};
}
