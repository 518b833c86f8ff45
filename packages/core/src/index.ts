export { WaybillError, wrapError } from '@waybill/verify';
export type { WaybillErrorCode } from '@waybill/verify';

export { canonicalJson, canonicalDigest, FlatRecordEncoder } from './json/canonical-json.js';
export {
  exportDefinitionSchema,
  outputFieldSchema,
  sensitivities,
  fieldTypes,
  slug,
  isoDuration,
} from './definitions/export-definition-schema.js';
export type { ExportDefinition, OutputField } from './definitions/export-definition-schema.js';
export {
  parseDefinition,
  loadDefinitionFile,
  DefinitionInvalidError,
  formatPath,
} from './definitions/definition-loader.js';
export type { DefinitionProblem } from './definitions/definition-loader.js';
export { definitionVersion } from './definitions/definition-version.js';
export { diffDefinitions } from './definitions/definition-diff.js';
export type { DefinitionChange } from './definitions/definition-diff.js';
export { DefinitionService } from './definitions/definition-service.js';
export type { ApplyResult, DefinitionServiceOptions } from './definitions/definition-service.js';

export { runStatuses, isTerminal, assertTransition } from './runs/run-status.js';
export type { RunStatus } from './runs/run-status.js';

export { SecretBox } from './secrets/secret-box.js';
export { LocalKeyProvider } from './secrets/key-provider.js';
export type { KeyProvider } from './secrets/key-provider.js';
export { rotateSecrets } from './secrets/secret-rotation.js';
export type { SecretRotation } from './secrets/secret-rotation.js';
export {
  storeSecret,
  resolveSecret,
  describeSecret,
  connectionSecretContext,
} from './secrets/connection-secret.js';
export { KeyRing } from './keys/key-ring.js';
export type { SigningKey, HmacKey } from './keys/key-ring.js';

export { compilePlan } from './pipeline/export-plan.js';
export type { ExportPlan, PlannedField } from './pipeline/export-plan.js';
export { BatchProcessor } from './pipeline/batch-processor.js';
export type { BatchResult, ExportFormat } from './pipeline/batch-processor.js';
export { csvField, csvLine } from './pipeline/csv-encoder.js';
export { checkPathTemplate, renderPathTemplate } from './pipeline/path-template.js';
export { ExportService } from './pipeline/export-service.js';
export type {
  ExportProgress,
  ExportRequest,
  RunAuthorization,
  ExportResult,
  ExportServiceOptions,
} from './pipeline/export-service.js';

export {
  EXPORT_PREDICATE_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
} from './waybill/export-predicate.js';
export type { ExportPredicate, PredicateField, ValidationGateResult } from './waybill/export-predicate.js';
export { buildLineage } from './waybill/lineage-builder.js';

export { uuidv7 } from './ids/uuid-v7.js';
export { addIsoDuration } from './time/iso-duration.js';
export { systemClock } from './ports/clock.js';

export * from './transforms/index.js';
export * from './expressions/index.js';

export type { Clock } from './ports/clock.js';
export type {
  Source,
  SourceColumn,
  DerivedColumn,
  SourceReadRequest,
  CellValue,
  RowCodec,
  RowBatch,
  EncodedRowBlock,
  EncodedRows,
} from './ports/source.js';
export type { Destination, DestinationWrite } from './ports/destination.js';
export type { ConnectionOpener, DestinationContext } from './ports/connection-opener.js';
export type {
  Store,
  DefinitionVersionRecord,
  ConnectionRecord,
  ConnectionRole,
  RunRecord,
  RunCounts,
  RunTransitionRecord,
  KeyRecord,
  KeyPurpose,
  PrincipalRecord,
  ApiKeyRecord,
  Caller,
  Role,
  PolicySetRecord,
  FieldClassification,
  CatalogVersionRecord,
  CatalogScanRecord,
  ReversalKind,
  ReversalRequestRecord,
  TokenVaultRecord,
  EgressRule,
  PolicyProposalRecord,
  PolicyProposalDecision,
  ExportRequestKind,
  ExportRequestStatus,
  ExportRequestRecord,
  ApprovalRequirement,
  ApprovalRecord,
  PolicyDecisionRecord,
  GrantRecord,
} from './ports/store.js';
export { ROLES } from './ports/store.js';

export { AuditLog } from './audit/audit-log.js';
export type { AuditEventInput, AuditLogOptions } from './audit/audit-log.js';
export { fsckAuditLog, tamperedError } from './audit/audit-fsck.js';
export type { AuditFsckOptions, AuditFsckReport } from './audit/audit-fsck.js';
export { StoredMerkleTree, TreeReader, decompose } from './audit/stored-merkle-tree.js';
export type { AuditCheckpointRecord, AuditEntryRecord, AuditNodeKey, AuditSearch } from './ports/store.js';
export { ConnectionService } from './connections/connection-service.js';

export { POLICY_SCHEMA, POLICY_ACTIONS } from './policy/policy-schema.js';
export type { PolicyAction } from './policy/policy-schema.js';
export { DEFAULT_POLICY_SET } from './policy/default-policy-set.js';
export { compilePolicySet, policySetVersion } from './policy/policy-set.js';
export type { CompiledPolicySet, PolicyInfo } from './policy/policy-set.js';
export { PolicyEngine } from './policy/policy-engine.js';
export type { PolicyDecision, PolicyQuestion } from './policy/policy-engine.js';
export { countApprovals, missingApprovals } from './policy/approval-requirements.js';
export type { ApprovalCounts } from './policy/approval-requirements.js';
export { PolicyService } from './governance/policy-service.js';
export type { PolicySetInForce, PolicyChange } from './governance/policy-service.js';
export { AccessGuard } from './governance/access-guard.js';
export type { WorkspaceAction } from './governance/access-guard.js';
export { PrincipalService, actorOf } from './governance/principal-service.js';
export type { NewPrincipal, CreatedPrincipal } from './governance/principal-service.js';
export { GrantService } from './governance/grant-service.js';
export { ExportRequestService } from './governance/export-request-service.js';
export type {
  ExportView,
  NewExportRequest,
  PreparedRun,
  RunOptions,
} from './governance/export-request-service.js';
export { API_KEY_PATTERN, hashApiKey, generateApiKey } from './governance/api-key.js';
export { ReversalService, reversalJson } from './governance/reversal-service.js';
export { EgressService, EGRESS_PATTERN, checkEgressPattern } from './governance/egress-service.js';
export type { NewReversal, ReversalView, RevealedItem, ReversalJson } from './governance/reversal-service.js';
export { createServices } from './services.js';
export type { ServiceDeps, Services } from './services.js';
export { CatalogService, catalogVersion, sampleColumns } from './catalog/catalog-service.js';
export type { TableScan } from './catalog/catalog-service.js';
export { parseContract, toContract, ODCS_API_VERSION } from './catalog/odcs-contract.js';
export type { ContractTable } from './catalog/odcs-contract.js';
export {
  checkProtection,
  destinationTrust,
  policyProtectionRules,
  TABLE_PROTECTION_RULES,
  TRUST_TIERS,
  PROTECTION_LEVELS,
} from './catalog/protection-rules.js';
export type { ProtectionRules, ProtectionLevel, TrustTier } from './catalog/protection-rules.js';
export { findPii, classifyNumber } from './detectors/text-scanner.js';
export type { PiiSpan } from './detectors/text-scanner.js';
export { classifyColumn, classifyValue, nameHint, maskShape } from './detectors/column-classifier.js';
export type { ColumnReport, ColumnFinding } from './detectors/column-classifier.js';
export { PII_KINDS, DEFAULT_SENSITIVITY } from './detectors/pii-kind.js';
export type { PiiKind } from './detectors/pii-kind.js';
export type { Notifier, Notification } from './ports/notifier.js';
export { SLUG_PATTERN } from './definitions/export-definition-schema.js';
export { compileCedarForQuickStart } from './policy/cedar-module.js';
export { useCommandHeaps } from './pipeline/command-heaps.js';
export { decryptValue } from './transforms/encrypt-transform.js';
