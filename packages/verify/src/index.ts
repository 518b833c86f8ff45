// The public face of @waybill/verify. Everything a recipient needs to check a waybill offline; nothing
// under ./lib is exported.

export { WaybillError, wrapError } from './waybill-error.js';
export type { WaybillErrorCode } from './waybill-error.js';

export { canonicalJson } from './canonical-json.js';

export { pae } from './dsse-pae.js';
export { parseEnvelope, signEnvelope, verifyEnvelope } from './dsse-envelope.js';
export type { DsseEnvelope, DsseSignature, EnvelopeSigner, VerifiedEnvelope } from './dsse-envelope.js';
export { keyIdForPublicKey } from './public-key-id.js';

export { MERKLE_HASH_SIZE, merkleEmptyRoot, merkleLeafHash, merkleNodeHash } from './merkle-hasher.js';
export { MerkleRootBuilder, merkleRoot } from './merkle-root-builder.js';
export { inclusionProof } from './inclusion-proof.js';
export { InclusionProofBuilder } from './inclusion-proof-builder.js';
export type { StreamedInclusionProof } from './inclusion-proof-builder.js';
export { consistencyProof } from './consistency-proof.js';
export { rootFromInclusionProof, verifyInclusion } from './inclusion-verifier.js';
export { verifyConsistency } from './consistency-verifier.js';

export { noteKeyId, noteVerifierFor, parseVerifierKey, vkeyFor } from './note-verifier-key.js';
export type { NoteVerifier } from './note-verifier-key.js';
export { parseSignerKey } from './note-signer-key.js';
export type { NoteSigner } from './note-signer-key.js';
export { parseNote, signNote, verifyNote } from './signed-note.js';
export type { NoteSignature, NoteSigningKey, ParsedNote, VerifiedNote } from './signed-note.js';
export { formatCheckpoint, parseCheckpoint } from './tlog-checkpoint.js';
export type { Checkpoint } from './tlog-checkpoint.js';
export { TLOG_PROOF_HEADER, formatTlogProof, parseTlogProof, verifyTlogProof } from './tlog-proof.js';
export type { TlogProof, VerifiedTlogProof } from './tlog-proof.js';

export {
  AUDIT_LEAF_DOMAIN,
  AUDIT_SALT_SIZE,
  SEAL_EVENT_TYPE,
  auditLeaf,
  auditLeafOpening,
  openAuditLeaf,
} from './audit-leaf.js';
export type { AuditEvent } from './audit-leaf.js';

export {
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  WAYBILL_FILES,
  WAYBILL_PREDICATE_TYPE,
  parseWaybillStatement,
} from './in-toto-statement.js';
export type { WaybillPredicate, WaybillStatement, WaybillSubject } from './in-toto-statement.js';
export { formatRecordLine, isRfc3339, parseRecordLine } from './record-line.js';
export type { RecordLine } from './record-line.js';
export { verifyWaybillDirectory } from './waybill-directory-verifier.js';
export type {
  ReceiptStatus,
  RecordInclusionProof,
  VerifyWaybillDirectoryOptions,
  WaybillDirectoryReport,
  WaybillVerificationError,
} from './waybill-directory-verifier.js';
