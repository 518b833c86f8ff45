import { createHash } from 'node:crypto';
import { addIsoDuration } from '../time/iso-duration.js';
import { checkProtection, destinationTrust, type ProtectionRules } from '../catalog/protection-rules.js';
import { KEYED_TRANSFORMS } from '../transforms/transform-type.js';
import { createReadStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import {
  MerkleRootBuilder,
  WaybillError,
  openAuditLeaf,
  signEnvelope,
  verifyTlogProof,
  wrapError,
} from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import type { ExportDefinition } from '../definitions/export-definition-schema.js';
import { canonicalJson } from '../json/canonical-json.js';
import { uuidv7 } from '../ids/uuid-v7.js';
import type { KeyRing, HmacKey } from '../keys/key-ring.js';
import type { Clock } from '../ports/clock.js';
import type { ConnectionOpener } from '../ports/connection-opener.js';
import type { Destination, DestinationWrite } from '../ports/destination.js';
import type { Notifier } from '../ports/notifier.js';
import type { CellValue, Source } from '../ports/source.js';
import type { ConnectionRecord, RunRecord, Store, TokenVaultRecord } from '../ports/store.js';
import type { PolicyRowFilter } from '../policy/row-filters.js';
import { RunTracker } from '../runs/run-tracker.js';
import { resolveSecret } from '../secrets/connection-secret.js';
import type { SecretBox } from '../secrets/secret-box.js';
import {
  EXPORT_PREDICATE_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  type ExportPredicate,
} from '../waybill/export-predicate.js';
import { buildLineage } from '../waybill/lineage-builder.js';
import { buildPredicate } from '../waybill/predicate-builder.js';
import { BatchProcessor, INDEX_MARK } from './batch-processor.js';
import type { BatchReply, WorkerInit } from './batch-task.js';
import { compilePlan, type ExportPlan } from './export-plan.js';
import { ageRecipientsOf, encryptPayload, type PayloadEncryption } from './age-payload.js';
import { ClassCounter, MAX_GENERALIZATION_LEVEL, belowK, generalizeDefinition } from './k-anonymity.js';
import { HashingFileWriter } from './hashing-file-writer.js';
import { renderPathTemplate } from './path-template.js';
import { validate, type Staged } from './validation-gates.js';
import { WorkerPool, openBatchRunner } from './worker-pool.js';
import { mainThreadBuildsRows } from './command-heaps.js';
import { MARKER_FILE, recoverInterruptedRuns, type StagingMarker } from '../runs/interrupted-runs.js';

export interface ExportProgress {
  readonly phase: 'staging' | 'delivering' | 'sealing';
  readonly rowsRead: number;
  readonly rowsWritten: number;
  readonly bytes: number;
}

export interface ExportServiceOptions {
  readonly store: Store;
  readonly keys: KeyRing;
  readonly box: SecretBox;
  readonly clock: Clock;
  readonly connections: ConnectionOpener;
  /** Every run transition is logged here, in the transaction that stores it. */
  readonly audit: AuditLog;
  /** Directory under which each run stages its files (`<stagingRoot>/<runId>/`). */
  readonly stagingRoot: string;
  readonly workspace?: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Pipeline worker threads: default one per core (at most 4); 0 processes batches on the calling
   * thread (least memory, one core).
   */
  readonly workers?: number;
  /** Told when a validation gate stops a run, for the definition's owners; each notice is logged. */
  readonly notifiers?: readonly Notifier[];
  /** The protection rules in force in a workspace (the policy set's `field.release`); the built-in table when absent. */
  readonly protectionRules?: (workspace: string) => Promise<ProtectionRules>;
}

type BatchDone = Extract<BatchReply, { ok: true }>;

export interface ExportRequest {
  readonly definition: string;
  /** A specific version; the latest when omitted. */
  readonly version?: string;
  readonly purpose: string;
  readonly requester: string;
  /** Who acts, as the audit log names it (`user:alice`); default `user:<requester>`. */
  readonly actor?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ExportProgress) => void;
  /** Rows per source batch. */
  readonly batchSize?: number;
  /** Worker threads for this run (overrides the service default; 0 = the calling thread). */
  readonly workers?: number;
  /** The workspace of the definition and its connections (the service's by default). */
  readonly workspace?: string;
  /** The approved export request this run executes: recorded in the predicate (policy, approvals). */
  readonly authorization?: RunAuthorization;
  /** Called once the run exists (stored as `created`), with its id. */
  readonly onRunCreated?: (runId: string) => Promise<void>;
}

/** Why a run may happen: the export request, the deciding policies and the approvals that held. */
export interface RunAuthorization {
  readonly exportId: string;
  readonly kind: 'business' | 'exception' | 'investigation';
  readonly justification: string | null;
  readonly policyIds: readonly string[];
  /** `sha256:<hex>` of the policy set that decided. */
  readonly policySet: string;
  readonly approvals: readonly {
    readonly approver: string;
    readonly roles: readonly string[];
    readonly reason: string;
    readonly approvedAt: string;
    readonly expiresAt: string;
  }[];
  /** Row filters of the policies that allowed the run (ANDed with the definition's filter). */
  readonly rowFilters?: readonly PolicyRowFilter[];
}

export interface ExportResult {
  readonly run: RunRecord;
  /** Where the export directory (payload + waybill) is visible. */
  readonly location: string;
  readonly predicate: ExportPredicate;
}

const RECORDS_FILE = 'records.jsonl';
/** The smallest equivalence class and the records in classes smaller than k (a loop: classes can be millions). */
function kStats(classes: ReadonlyMap<string, number>, k: number): { smallest: number; recordsBelow: number } {
  let smallest = classes.size === 0 ? 0 : Infinity;
  let recordsBelow = 0;
  for (const n of classes.values()) {
    if (n < smallest) smallest = n;
    if (n < k) recordsBelow += n;
  }
  return { smallest, recordsBelow };
}

/** Transforms whose output is text that must no longer hold personal data (the output PII scan reads it). */
const SCANNED_TRANSFORMS: ReadonlySet<string> = new Set([
  'mask_partial',
  'mask_charclass',
  'replace',
  'scan_and_apply',
]);
const LINEAGE_FILE = 'lineage.json';
const ENVELOPE_FILE = 'waybill.intoto.jsonl';
const RECEIPT_FILE = 'receipt.tlog-proof';

/**
 * Runs one export end to end: STAGE → VALIDATE → DELIVER → SEAL (ARCHITECTURE.md). Each step is a
 * stored state of the run before the next starts. On any failure the destination's temporary files and
 * the staging area are removed, the run is `failed` with its reason, and the error is rethrown.
 */
export class ExportService {
  private readonly workspace: string;
  private readonly workers: number;

  constructor(private readonly o: ExportServiceOptions) {
    this.workspace = o.workspace ?? 'default';
    this.workers = o.workers ?? Math.min(availableParallelism(), 4);
  }

  async run(req: ExportRequest): Promise<ExportResult> {
    const threads: { pool?: WorkerPool } = {};
    try {
      return await this.#run(req, threads);
    } finally {
      await threads.pool?.close();
    }
  }

  async #run(req: ExportRequest, threads: { pool?: WorkerPool }): Promise<ExportResult> {
    const workspace = req.workspace ?? this.workspace;
    const { store, clock } = this.o;
    await this.recoverInterrupted();
    const def = req.version
      ? await store.getDefinitionVersion(workspace, req.definition, req.version)
      : await store.latestDefinition(workspace, req.definition);
    if (!def) {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `no export definition "${req.definition}"${req.version ? ` at version ${req.version}` : ''}; apply one with \`waybill def apply FILE\``,
      );
    }
    const definition = def.body;
    // An investigation's purpose is `investigation`, which the security policy allows, not the definition.
    if (req.authorization?.kind !== 'investigation' && !definition.purposes.includes(req.purpose)) {
      throw new WaybillError(
        'ERR_WAYBILL_PURPOSE_NOT_ALLOWED',
        `purpose "${req.purpose}" is not allowed by definition "${definition.name}" (allowed: ${definition.purposes.join(', ')})`,
      );
    }
    const sourceConn = await this.connection(workspace, 'source', definition.source.connection);
    const destConn = await this.connection(workspace, 'destination', definition.destination.connection);
    // The pipeline's threads start now and load their modules while the run is checked and planned
    // (they only need the plan once the first batch is read); they end with the run. Rows paged from an
    // app's API arrive slower than one thread transforms them: there, threads would only add their start.
    const paced = this.o.connections.sourcePace?.(sourceConn.kind) === 'network';
    const workers = Math.max(0, Math.min(req.workers ?? (paced ? 0 : this.workers), 16));
    const started = workers > 0 ? new WorkerPool(workers) : undefined;
    if (started) threads.pool = started;

    const now = clock.now().toISOString();
    const runId = uuidv7(Date.parse(now));
    const run: RunRecord = {
      id: runId,
      workspace,
      definitionName: definition.name,
      definitionVersion: def.version,
      requester: req.requester,
      purpose: req.purpose,
      status: 'created',
      createdAt: now,
      updatedAt: now,
      errorCode: null,
      errorMessage: null,
      counts: null,
      location: null,
      waybillDigest: null,
    };
    // The staging directory and its marker exist before the run does, so a run whose process dies at any
    // point can be found and rolled back by the next one (recoverInterrupted).
    const staging = join(this.o.stagingRoot, runId);
    const marker: StagingMarker = { runId, pid: process.pid, host: hostname(), destination: destConn.name };
    await mkdir(staging, { recursive: true, mode: 0o700 });
    await writeFile(join(staging, MARKER_FILE), JSON.stringify(marker), { mode: 0o600 });
    const tracker = new RunTracker(store, clock, run, this.o.audit, req.actor ?? `user:${req.requester}`);
    try {
      await tracker.create();
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    await req.onRunCreated?.(runId);
    let write: DestinationWrite | undefined;
    let source: Source | undefined;
    let destinationForCheck: Destination | undefined;
    let committedPath: string | undefined;
    let sealedPredicate: ExportPredicate | undefined;
    let keepMarker = false;
    try {
      source = await this.o.connections.openSource(
        sourceConn,
        resolveSecret(this.o.box, sourceConn, this.o.env),
        { egress: await store.listEgressRules(workspace) },
      );
      const columns = await source.describe(
        definition.source.table,
        req.signal ? { signal: req.signal } : {},
      );
      const hmacKeys = await this.loadHmacKeys(definition);
      const rowFilters = req.authorization?.rowFilters ?? [];
      const transformContext = {
        hmacKey: (name: string) => {
          const k = hmacKeys.get(name);
          if (!k) throw new WaybillError('ERR_WAYBILL_KEY_NOT_FOUND', `no HMAC key named "${name}"`);
          return k;
        },
      };
      let plan = compilePlan(definition, columns, transformContext, rowFilters);
      // The protection rules again, at run time: the destination's trust or the catalog may have changed
      // since the definition was applied.
      const catalog = await store.latestCatalog(workspace, sourceConn.name, definition.source.table);
      const violations = checkProtection(
        definition,
        catalog?.fields ?? {},
        destinationTrust(destConn.config),
        (f) =>
          f.from !== undefined
            ? [f.from]
            : [...(plan.fields.find((p) => p.name === f.name)?.compute?.references ?? [])],
        await this.o.protectionRules?.(workspace),
      );
      if (violations.length > 0) {
        throw new WaybillError(
          'ERR_WAYBILL_POLICY_DENIED',
          `destination "${destConn.name}" is trusted as ${destinationTrust(destConn.config)}; the protection rules refuse ` +
            violations.map((v) => `${v.field} (${v.sensitivity}, ${v.transform}; rule ${v.rule})`).join(', '),
        );
      }

      // k-anonymity that suppresses or generalizes: a counting pass over the source first.
      let runDefinition = definition;
      let suppress: string[] = [];
      let generalized: string[] = [];
      const enforce = definition.privacy?.enforce ?? 'block';
      if (definition.privacy && enforce !== 'block') {
        const k = definition.privacy.k;
        const levels = enforce === 'generalize' ? MAX_GENERALIZATION_LEVEL : 0;
        const candidates = Array.from({ length: levels + 1 }, (_x, l) => generalizeDefinition(definition, l));
        const plans = candidates.map((c) => compilePlan(c.definition, columns, transformContext, rowFilters));
        const counter = new ClassCounter(plans);
        for await (const rows of source.read({
          table: definition.source.table,
          columns: plan.columns,
          batchSize: req.batchSize ?? 2000,
          ...(req.signal ? { signal: req.signal } : {}),
        })) {
          req.signal?.throwIfAborted();
          counter.add(rows);
        }
        const allowed = Math.floor((definition.privacy.maxSuppressed ?? 0.05) * counter.total);
        // The least generalization whose too-small combinations may be suppressed; none: the gate blocks.
        let level = candidates.findIndex((_c, l) => belowK(counter.classes[l]!, k).records <= allowed);
        if (level >= 0) suppress = belowK(counter.classes[level]!, k).keys;
        else level = levels;
        runDefinition = candidates[level]!.definition;
        generalized = candidates[level]!.changes;
        plan = plans[level]!;
      }

      // STAGE
      const payloadName = `${definition.name}.${definition.format}`;
      // The output PII scan reads masked text and fields declared harmless (public or internal, kept as
      // they are): personal data found there means a mask or a classification is wrong.
      const fieldSensitivity = (f: ExportPlan['emitted'][number]): string => {
        const c = f.field.from !== undefined ? catalog?.fields[f.field.from] : undefined;
        const declared = f.field.classification;
        const order = ['public', 'internal', 'confidential', 'restricted'];
        const a = declared ? order.indexOf(declared) : -1;
        const b = c ? order.indexOf(c.sensitivity) : -1;
        return a < 0 && b < 0 ? 'unclassified' : order[Math.max(a, b)]!;
      };
      const piiScan = plan.emitted
        .filter((f) =>
          f.transform
            ? SCANNED_TRANSFORMS.has(f.transform.type)
            : ['public', 'internal'].includes(fieldSensitivity(f)),
        )
        .map((f) => f.name);
      const init = {
        definition: runDefinition,
        suppress,
        columns,
        format: definition.format,
        hmacKeys: [...hmacKeys].map(([name, k]) => ({ name, keyId: k.keyId, secret: k.secret })),
        piiScan,
        rowFilters,
      };
      // The export may not be kept longer than the shortest-lived field it reads (the catalog says).
      let shortestRetention: { field: string; retention: string } | null = null;
      for (const column of plan.columns) {
        const r = catalog?.fields[column]?.retention;
        if (r === undefined) continue;
        const ms = (d: string) => addIsoDuration(new Date(Date.UTC(2000, 0, 1)), d).getTime();
        if (shortestRetention === null || ms(r) < ms(shortestRetention.retention))
          shortestRetention = { field: column, retention: r };
      }
      const saveTokens = (entries: readonly TokenVaultRecord[]) =>
        store.saveTokens(workspace, entries, runId, clock.now().toISOString());
      let staged = await this.stage(
        plan,
        init,
        source,
        staging,
        payloadName,
        req,
        shortestRetention,
        saveTokens,
        workers,
        started,
      );
      if (staged.kAnonymity) {
        staged = { ...staged, kAnonymity: { ...staged.kAnonymity, enforce, generalized } };
      }
      await source.close();
      source = undefined;
      await tracker.move('staged', { counts: staged.counts });

      // VALIDATE
      const gates = validate(staged);
      const failed = gates.find((g) => !g.passed);
      if (failed)
        throw new WaybillError(
          'ERR_WAYBILL_VALIDATION_FAILED',
          `validation gate ${failed.gate}: ${failed.detail}`,
        );
      await tracker.move('validated');

      // DELIVER: payload and records to the destination's temporary location.
      // Encryption to recipients: the payload leaves as an age file; the waybill covers the ciphertext
      // (a subject) and the plaintext (its digest in the predicate), checkable before and after decrypting.
      const recipients = ageRecipientsOf(destConn.config);
      let delivered = { name: payloadName, sha256: staged.payloadSha256, bytes: staged.payloadBytes };
      let encryption: PayloadEncryption | undefined;
      if (recipients.length > 0) {
        const name = `${payloadName}.age`;
        const sealedPayload = await encryptPayload(
          join(staging, payloadName),
          join(staging, name),
          recipients,
        );
        delivered = { name, ...sealedPayload };
        encryption = {
          format: 'age-encryption.org/v1',
          recipients,
          plaintext: { name: payloadName, bytes: staged.payloadBytes, sha256: staged.payloadSha256 },
        };
      }
      const destination = await this.o.connections.openDestination(
        destConn,
        resolveSecret(this.o.box, destConn, this.o.env),
        { egress: await store.listEgressRules(workspace) },
      );
      const path = renderPathTemplate(definition.destination.path, {
        name: definition.name,
        runId,
        date: now.slice(0, 10),
        purpose: req.purpose,
      });
      await writeFile(join(staging, MARKER_FILE), JSON.stringify({ ...marker, path }), { mode: 0o600 });
      write = await destination.begin(path, { runId, ...(req.signal ? { signal: req.signal } : {}) });
      req.onProgress?.({
        phase: 'delivering',
        rowsRead: staged.counts.read,
        rowsWritten: staged.counts.written,
        bytes: staged.payloadBytes,
      });
      for (const name of [delivered.name, RECORDS_FILE]) {
        const from = join(staging, name);
        if (write.copyFrom) await write.copyFrom(name, from);
        else await write.writeFile(name, createReadStream(from, { highWaterMark: 1 << 16 }));
      }
      // `delivered`: the payload is durable at the destination under a temporary name. The run gets its
      // location only when sealed, once the export is visible there.
      await tracker.move('delivered', {}, 'payload written to a temporary location at the destination');

      // SEAL: lineage + signed statement beside the data, then commit atomically.
      req.onProgress?.({
        phase: 'sealing',
        rowsRead: staged.counts.read,
        rowsWritten: staged.counts.written,
        bytes: staged.payloadBytes,
      });
      const signing = await this.o.keys.signingKey('waybill-signing');
      const signedAt = clock.now().toISOString();
      const predicate = buildPredicate({
        run,
        definition,
        version: def.version,
        plan,
        sourceConn,
        sourceKind: sourceConn.kind,
        sourceInstance: staged.instance,
        destConn,
        location: write.location,
        counts: staged.counts,
        merkleRoot: staged.merkleRoot,
        gates,
        times: { ...tracker.times, signed: signedAt },
        signingKeyId: signing.keyId,
        ...(req.authorization ? { authorization: req.authorization } : {}),
        ...(catalog ? { catalog: catalog.fields } : {}),
        ...(encryption ? { encryption } : {}),
        sourceColumns: columns,
      });
      const lineage = Buffer.from(
        JSON.stringify(
          buildLineage({
            predicate,
            payloadName: delivered.name,
            payloadBytes: delivered.bytes,
            sourceNamespace: `${sourceConn.kind}://${sourceConn.name}`,
            destinationNamespace: `${destConn.kind}://${destConn.name}`,
          }),
          null,
          2,
        ) + '\n',
      );
      const statement = {
        _type: IN_TOTO_STATEMENT_TYPE,
        subject: [
          { name: delivered.name, digest: { sha256: delivered.sha256 } },
          { name: RECORDS_FILE, digest: { sha256: staged.recordsSha256 } },
          { name: LINEAGE_FILE, digest: { sha256: sha256(lineage) } },
        ],
        predicateType: EXPORT_PREDICATE_TYPE,
        predicate,
      };
      const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(canonicalJson(statement)), {
        keyId: signing.keyId,
        privateKey: signing.privateKey,
      });
      const envelopeBytes = Buffer.from(JSON.stringify(envelope) + '\n');
      await write.writeFile(LINEAGE_FILE, lineage);
      await write.writeFile(ENVELOPE_FILE, envelopeBytes);
      // The seal (the run's `sealed` transition, naming the envelope's digest) enters the audit log
      // before anything is released: an export whose seal cannot be logged is never committed.
      const location = write.location;
      const waybillDigest = sha256(envelopeBytes);
      sealedPredicate = predicate;
      const { run: sealed, auditIndex } = await tracker.move('sealed', { location, waybillDigest }, null, {
        waybillDigest,
        location,
        definitionVersion: def.version,
        purpose: req.purpose,
        rows: staged.counts,
        recordsMerkleRoot: staged.merkleRoot,
      });
      // A checkpoint at once, and the receipt proving the seal against it, beside the waybill.
      const checkpoint = await this.o.audit.checkpoint();
      const receipt = await this.o.audit.proof(auditIndex, checkpoint.size);
      // The receipt must verify as a recipient will check it (against this log's own keys, opening to
      // this seal entry) before the export is released with it.
      const sealEntry = await this.o.audit.entry(auditIndex);
      const opened = verifyTlogProof(receipt, {
        leafHash: Buffer.from(sealEntry.leafHash, 'hex'),
        verifiers: await this.o.audit.verifierKeys(),
      });
      if (
        opened.extra === null ||
        !openAuditLeaf(opened.extra).leaf.equals(Buffer.from(sealEntry.leaf, 'hex'))
      ) {
        throw new WaybillError(
          'ERR_WAYBILL_LOG_TAMPERED',
          `the receipt of run ${runId} does not open its seal entry`,
        );
      }
      await write.writeFile(RECEIPT_FILE, Buffer.from(receipt, 'utf8'));
      destinationForCheck = destination;
      committedPath = path;
      await write.commit();
      write = undefined;
      // Released: recovery must not roll this run back if the process dies before cleaning up.
      await writeFile(join(staging, MARKER_FILE), JSON.stringify({ ...marker, path, released: true }), {
        mode: 0o600,
      });
      return { run: sealed, location, predicate };
    } catch (err) {
      const e =
        err instanceof WaybillError
          ? err
          : wrapError(
              err,
              'ERR_WAYBILL_RUN_FAILED',
              `run ${runId} failed: ${(err as Error)?.message ?? String(err)}`,
            );
      // A commit that reported an error after the export became visible (an fsync of the parent, say) did
      // release it, with its receipt: that run is sealed, not failed.
      const current = tracker.current;
      if (
        current.status === 'sealed' &&
        committedPath !== undefined &&
        (await destinationForCheck?.committedDigest?.(committedPath, ENVELOPE_FILE).catch(() => null)) ===
          current.waybillDigest
      ) {
        write = undefined;
        return { run: current, location: current.location!, predicate: sealedPredicate! };
      }
      if (write) await write.abort().catch(() => undefined);
      // If even recording the failure fails, the staging marker stays, so a later run's recovery can
      // settle this run instead of leaving it in a state that is not true.
      keepMarker = !(await tracker.fail(e).then(
        () => true,
        () => false,
      ));
      if (e.code === 'ERR_WAYBILL_VALIDATION_FAILED') await this.notifyOwners(run, definition.owner, e);
      throw e;
    } finally {
      if (source) await source.close().catch(() => undefined);
      if (!keepMarker) await rm(staging, { recursive: true, force: true });
    }
  }

  /**
   * Tells the definition's owners that a validation gate stopped a run, through every notifier, and logs
   * each notice (`run.notified`: channel and whether it was delivered). Never throws: the run's failure
   * is what the caller sees.
   */
  private async notifyOwners(run: RunRecord, owner: string, e: WaybillError): Promise<void> {
    for (const notifier of this.o.notifiers ?? []) {
      const r = await notifier
        .notify({
          type: 'run.failed',
          workspace: run.workspace,
          runId: run.id,
          definition: run.definitionName,
          owner,
          code: e.code,
          message: e.message,
          at: this.o.clock.now().toISOString(),
        })
        .catch(() => ({ delivered: false, detail: 'the notifier failed' }));
      await this.o.audit
        .appendNow({
          type: 'run.notified',
          actor: 'system',
          workspace: run.workspace,
          subjects: { run: run.id, definition: run.definitionName },
          details: {
            channel: notifier.channel,
            owner,
            delivered: r.delivered,
            ...('detail' in r && r.detail ? { detail: r.detail } : {}),
          },
        })
        .catch(() => undefined);
    }
  }

  /** Rolls back the runs of processes that died (see `recoverInterruptedRuns`). */
  recoverInterrupted(): Promise<string[]> {
    return recoverInterruptedRuns({ ...this.o, workspace: this.workspace });
  }

  private async connection(
    workspace: string,
    role: 'source' | 'destination',
    name: string,
  ): Promise<ConnectionRecord> {
    const c = await this.o.store.getConnection(workspace, role, name);
    if (!c) {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `no ${role} connection "${name}"; register it with \`waybill ${role} add ${name} --kind …\``,
      );
    }
    return c;
  }

  private async loadHmacKeys(definition: ExportDefinition): Promise<Map<string, HmacKey>> {
    const names = new Set<string>();
    for (const f of definition.fields) {
      const t = f.transform as unknown;
      if (t && typeof t === 'object' && KEYED_TRANSFORMS.has(String((t as { type?: unknown }).type))) {
        const key = (t as { key?: unknown }).key;
        if (typeof key === 'string') names.add(key);
      }
    }
    const out = new Map<string, HmacKey>();
    for (const n of names) out.set(n, await this.o.keys.hmacKey(n));
    return out;
  }

  private async stage(
    plan: ExportPlan,
    init: Omit<WorkerInit, 'codec'>,
    source: Source,
    staging: string,
    payloadName: string,
    req: ExportRequest,
    shortestRetention: { field: string; retention: string } | null,
    saveTokens: (entries: readonly TokenVaultRecord[]) => Promise<void>,
    workers: number,
    started: WorkerPool | undefined,
  ): Promise<Staged> {
    const definition = init.definition;
    const payload = new HashingFileWriter(join(staging, payloadName));
    const records = new HashingFileWriter(join(staging, RECORDS_FILE));
    const merkle = new MerkleRootBuilder();
    const readRequest = {
      table: definition.source.table,
      columns: plan.columns,
      batchSize: req.batchSize ?? 2000,
      ...(req.signal ? { signal: req.signal } : {}),
    };
    const encoded = source.readEncoded ? await source.readEncoded(readRequest) : null;
    if (encoded === null) mainThreadBuildsRows();
    const pool = await openBatchRunner(workers, { ...init, codec: encoded?.codec ?? null }, started);
    // Batches in flight: enough to keep every worker busy, few enough to bound memory.
    const inFlight: Promise<BatchDone>[] = [];
    const inFlightBytes: number[] = [];
    let pendingBytes = 0;
    const maxInFlight = Math.max(1, workers * 3);
    // Output buffers of written batches, handed back to the workers with the next batches to fill.
    const spares: ArrayBuffer[] = [];
    const submit = (task: { firstRowNumber: number; block?: Uint8Array; rows?: CellValue[][] }) => {
      const spare = spares.pop();
      const transfer: ArrayBuffer[] = spare ? [spare] : [];
      const bytes = task.block;
      // A block that owns its whole buffer moves to the worker without a copy.
      if (bytes && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
        transfer.push(bytes.buffer as ArrayBuffer);
      return pool.submit({ seq: seq++, ...task, ...(spare ? { spare } : {}) }, transfer);
    };
    let recordLines = 0;
    let typeChecked = 0;
    let piiScanned = 0;
    // k-anonymity: records per combination of quasi-identifier values, over the whole output.
    const classes = new Map<string, number>();
    let read = 0;
    let filtered = 0;
    let suppressed = 0;
    let written = 0;
    let seq = 0;
    let rowNumber = 1;
    let lastReport = 0;
    const drainOne = async (): Promise<void> => {
      const r = await inFlight.shift()!;
      pendingBytes -= inFlightBytes.shift()!;
      recordLines += countLines(r.records);
      typeChecked += r.typeChecked;
      piiScanned += r.piiScanned;
      for (const [key, n] of r.classes) classes.set(key, (classes.get(key) ?? 0) + n);
      // The vault holds each token before any output naming it can leave staging.
      if (r.vault.length > 0) await saveTokens(r.vault);
      let recordBytes: Uint8Array = r.records;
      if (!r.recordsFinal) {
        const parts = Buffer.from(r.records.buffer, r.records.byteOffset, r.records.byteLength)
          .toString('utf8')
          .split(INDEX_MARK);
        let text = parts[0]!;
        for (let i = 1; i < parts.length; i++) text += String(written + i - 1) + parts[i]!;
        recordBytes = Buffer.from(text, 'utf8');
      }
      merkle.addAll(r.leafHashes);
      // The reply's buffer goes back to a worker once both files hold its bytes.
      let pendingWrites = 2;
      const onWritten = (): void => {
        if (--pendingWrites === 0 && spares.length < maxInFlight)
          spares.push(r.payload.buffer as ArrayBuffer);
      };
      read += r.read;
      // Suppressed rows count as filtered out (by the privacy rule); the k-anonymity gate names them.
      filtered += r.filtered + r.suppressed;
      suppressed += r.suppressed;
      written += r.written;
      await payload.write(r.payload, onWritten);
      await records.write(recordBytes, onWritten);
      const t = Date.now();
      if (req.onProgress && t - lastReport > 100) {
        lastReport = t;
        req.onProgress({ phase: 'staging', rowsRead: read, rowsWritten: written, bytes: payload.bytes });
      }
    };
    try {
      await payload.write(new BatchProcessor(plan, definition.format).header());
      if (encoded) {
        for await (const block of encoded.blocks) {
          req.signal?.throwIfAborted();
          const bytes = block.bytes;
          inFlight.push(submit({ firstRowNumber: rowNumber, block: bytes }));
          rowNumber += block.rows;
          inFlightBytes.push(bytes.byteLength);
          pendingBytes += bytes.byteLength;
          while (
            inFlight.length >= maxInFlight ||
            (pendingBytes > MAX_IN_FLIGHT_BYTES && inFlight.length > 0)
          ) {
            await drainOne();
          }
        }
      } else {
        for await (const rows of source.read(readRequest)) {
          req.signal?.throwIfAborted();
          inFlight.push(submit({ firstRowNumber: rowNumber, rows }));
          rowNumber += rows.length;
          const size = estimateBytes(rows);
          inFlightBytes.push(size);
          pendingBytes += size;
          while (
            inFlight.length >= maxInFlight ||
            (pendingBytes > MAX_IN_FLIGHT_BYTES && inFlight.length > 0)
          ) {
            await drainOne();
          }
        }
      }
      while (inFlight.length > 0) await drainOne();
      await payload.close();
      await records.close();
    } catch (err) {
      await payload.close().catch(() => undefined);
      await records.close().catch(() => undefined);
      throw err;
    } finally {
      await pool.close();
    }
    req.onProgress?.({ phase: 'staging', rowsRead: read, rowsWritten: written, bytes: payload.bytes });
    return {
      counts: { read, filtered, written },
      sourceRows: rowNumber - 1,
      recordLines,
      typeChecked,
      typedFields: plan.emitted.filter((f) => f.field.type !== undefined).length,
      requiredFields: plan.emitted.filter((f) => f.field.required === true).map((f) => f.name),
      recordCount: written,
      merkleRoot: merkle.root().toString('hex'),
      merkleSize: merkle.size,
      payloadSha256: payload.digest(),
      payloadBytes: payload.bytes,
      recordsSha256: records.digest(),
      piiScanned,
      piiScanFields: init.piiScan ?? [],
      retention: { export: definition.retention, shortest: shortestRetention },
      limits: definition.limits ?? {},
      kAnonymity: definition.privacy
        ? {
            k: definition.privacy.k,
            fields: [...definition.privacy.quasiIdentifiers],
            classes: classes.size,
            suppressed,
            ...kStats(classes, definition.privacy.k),
          }
        : null,
      instance: source.instance,
    };
  }
}

/** Bound on the encoded bytes of batches in flight, so wide rows cannot grow memory without limit. */
const MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;

function estimateBytes(rows: readonly (readonly unknown[])[]): number {
  let n = 0;
  for (const row of rows) {
    n += 16;
    for (const v of row) n += typeof v === 'string' ? v.length * 2 : 8;
  }
  return n;
}

function countLines(bytes: Uint8Array): number {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
