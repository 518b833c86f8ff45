import { WaybillError } from '@waybill/verify';
import { checkProtection, destinationTrust, type ProtectionRules } from '../catalog/protection-rules.js';
import { KEYED_TRANSFORMS } from '../transforms/transform-type.js';
import { sampleColumns } from '../catalog/catalog-service.js';
import { classifyColumn } from '../detectors/column-classifier.js';
import type { Source } from '../ports/source.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Clock } from '../ports/clock.js';
import type { ConnectionOpener } from '../ports/connection-opener.js';
import type { DefinitionVersionRecord, Store } from '../ports/store.js';
import { compilePlan } from '../pipeline/export-plan.js';
import { checkPathTemplate } from '../pipeline/path-template.js';
import { resolveSecret } from '../secrets/connection-secret.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { diffDefinitions, type DefinitionChange } from './definition-diff.js';
import { parseDefinition } from './definition-loader.js';
import { definitionVersion } from './definition-version.js';
import type { ExportDefinition } from './export-definition-schema.js';

export interface ApplyResult {
  readonly record: DefinitionVersionRecord;
  /** False when the same version was already the latest (nothing stored). */
  readonly changed: boolean;
}

export interface DefinitionServiceOptions {
  readonly store: Store;
  readonly keys: KeyRing;
  readonly box: SecretBox;
  readonly clock: Clock;
  readonly connections: ConnectionOpener;
  readonly audit: AuditLog;
  readonly workspace?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The protection rules in force in a workspace (the policy set's `field.release`); the built-in table when absent. */
  readonly protectionRules?: (workspace: string) => Promise<ProtectionRules>;
}

/** Applying, listing and comparing versions of export definitions. Versions are immutable. */
/** Rows sampled at `def apply` to find unclassified personal data. */
const CLASSIFICATION_SAMPLE = 500;

export class DefinitionService {
  private readonly workspace: string;

  constructor(private readonly o: DefinitionServiceOptions) {
    this.workspace = o.workspace ?? 'default';
  }

  /**
   * Validates a definition completely — schema, path template, connections, keys, and the plan against
   * the source's real columns — and stores it as a new version unless it equals the latest one.
   */
  /** `appliedBy` is the principal's name; `actor` how the audit log names it (`user:alice`). */
  async apply(
    text: string,
    file: string,
    appliedBy: string,
    actor = `user:${appliedBy}`,
  ): Promise<ApplyResult> {
    const definition = parseDefinition(text, file);
    try {
      checkPathTemplate(definition.destination.path);
    } catch (err) {
      if (err instanceof WaybillError)
        throw new WaybillError(err.code, `${file}: ${err.message}`, { cause: err });
      throw err;
    }
    await this.checkAgainstSource(definition, file);
    const version = definitionVersion(definition);
    return this.o.store.transaction(async (tx) => {
      const latest = await tx.latestDefinition(this.workspace, definition.name);
      if (latest?.version === version) return { record: latest, changed: false };
      const record: DefinitionVersionRecord = {
        workspace: this.workspace,
        name: definition.name,
        version,
        seq: (latest?.seq ?? 0) + 1,
        body: definition,
        sourceText: text,
        appliedBy,
        appliedAt: this.o.clock.now().toISOString(),
      };
      await tx.insertDefinitionVersion(record);
      await this.o.audit.append(tx, {
        type: 'definition.applied',
        actor,
        workspace: this.workspace,
        subjects: { definition: definition.name },
        details: { version, seq: record.seq, previous: latest?.version ?? null },
      });
      return { record, changed: true };
    });
  }

  async list(): Promise<DefinitionVersionRecord[]> {
    return this.o.store.listDefinitions(this.workspace);
  }

  /** A version by name and optional version id (a unique prefix of the hex digest, or `@N` for seq N). */
  async show(name: string, version?: string): Promise<DefinitionVersionRecord> {
    const history = await this.history(name);
    if (!version) return history[history.length - 1]!;
    const bare = version.replace(/^sha256:/, '');
    const matches = history.filter((r) =>
      version.startsWith('@')
        ? String(r.seq) === version.slice(1)
        : r.version.replace(/^sha256:/, '').startsWith(bare),
    );
    // A version applied more than once (a revert) is one version: its latest application answers.
    const distinct = new Set(matches.map((r) => r.version));
    if (distinct.size !== 1) {
      throw new WaybillError(
        distinct.size ? 'ERR_WAYBILL_INVALID_INPUT' : 'ERR_WAYBILL_NOT_FOUND',
        distinct.size
          ? `version "${version}" of "${name}" is ambiguous; give more digits`
          : `definition "${name}" has no version "${version}"; see \`waybill def history ${name}\``,
      );
    }
    return matches[matches.length - 1]!;
  }

  async history(name: string): Promise<DefinitionVersionRecord[]> {
    const h = await this.o.store.definitionHistory(this.workspace, name);
    if (h.length === 0) {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `no export definition "${name}"; see \`waybill def list\``,
      );
    }
    return h;
  }

  /** Field-level changes between two versions (defaults: the previous and the latest). */
  async diff(
    name: string,
    from?: string,
    to?: string,
  ): Promise<{ from: DefinitionVersionRecord; to: DefinitionVersionRecord; changes: DefinitionChange[] }> {
    const history = await this.history(name);
    const b = to ? await this.show(name, to) : history[history.length - 1]!;
    const a = from
      ? await this.show(name, from)
      : (history[history.indexOf(history.find((r) => r.version === b.version)!) - 1] ?? b);
    return { from: a, to: b, changes: diffDefinitions(a.body, b.body) };
  }

  /**
   * Fail closed: every column the definition reads (fields, computed fields' inputs, the filter, the
   * record id) that looks like personal data, in a fresh sample or in the table's last scan, must be
   * classified — in the catalog, or by the definition's own field. Otherwise the definition is refused,
   * naming the columns and how to classify them.
   */
  private async checkClassified(
    d: ExportDefinition,
    file: string,
    connection: string,
    source: Source,
    columns: readonly string[],
  ): Promise<void> {
    const table = d.source.table;
    const catalog = await this.o.store.latestCatalog(this.workspace, connection, table);
    const declared = new Set<string>();
    for (const f of d.fields) {
      if (f.classification === undefined) continue;
      if (f.from !== undefined) declared.add(f.from);
    }
    const scan = await this.o.store.latestCatalogScan(this.workspace, connection, table);
    const sample = await sampleColumns(source, table, columns, CLASSIFICATION_SAMPLE);
    const now = this.o.clock.now();
    const unclassified: string[] = [];
    columns.forEach((column, i) => {
      if (catalog?.fields[column] !== undefined || declared.has(column)) return;
      const report = classifyColumn(column, sample.values[i]!, now);
      const scanned = scan?.columns.find((c) => c.column === column);
      if (!report.likelyPii && !scanned?.likelyPii) return;
      const kind = report.proposed.piiKind ?? scanned?.piiKind ?? 'personal data';
      const inside = Object.keys(report.embedded);
      unclassified.push(
        `${column} (${kind.replace('_', ' ')}${inside.length ? ` with ${inside.join(', ')}` : ''})`,
      );
    });
    if (unclassified.length > 0) {
      throw new WaybillError(
        'ERR_WAYBILL_DEFINITION_INVALID',
        `${file}: these columns of ${connection}/${table} look like personal data and nobody classified them: ${unclassified.join(', ')}. ` +
          `Give each field that reads them a \`classification\`, or classify the table: ` +
          `\`waybill catalog scan ${connection} --table ${table} --propose > contract.yaml\`, review it, \`waybill catalog apply contract.yaml\``,
      );
    }
  }

  private async checkAgainstSource(d: ExportDefinition, file: string): Promise<void> {
    const src = await this.o.store.getConnection(this.workspace, 'source', d.source.connection);
    if (!src) {
      throw new WaybillError(
        'ERR_WAYBILL_DEFINITION_INVALID',
        `${file}: source.connection: no source "${d.source.connection}"; register it first with \`waybill source add\``,
      );
    }
    const dst = await this.o.store.getConnection(this.workspace, 'destination', d.destination.connection);
    if (!dst) {
      throw new WaybillError(
        'ERR_WAYBILL_DEFINITION_INVALID',
        `${file}: destination.connection: no destination "${d.destination.connection}"; register it first with \`waybill destination add\``,
      );
    }
    const hmac = new Map<string, { keyId: string; secret: Uint8Array }>();
    for (const f of d.fields) {
      const t = f.transform as unknown;
      if (t && typeof t === 'object' && KEYED_TRANSFORMS.has(String((t as { type?: unknown }).type))) {
        const key = String((t as { key?: unknown }).key);
        if (!(await this.o.keys.hasHmacKey(key))) {
          throw new WaybillError(
            'ERR_WAYBILL_DEFINITION_INVALID',
            `${file}: fields.${f.name}.transform.key: no HMAC key "${key}"; create it with \`waybill keys create-hmac ${key}\``,
          );
        }
        hmac.set(key, await this.o.keys.hmacKey(key));
      }
    }
    const source = await this.o.connections.openSource(src, resolveSecret(this.o.box, src, this.o.env), {
      egress: await this.o.store.listEgressRules(this.workspace),
    });
    try {
      const columns = await source.describe(d.source.table);
      const plan = compilePlan(d, columns, { hmacKey: (n) => hmac.get(n)! });
      await this.checkClassified(d, file, src.name, source, plan.columns);
      const catalog = await this.o.store.latestCatalog(this.workspace, src.name, d.source.table);
      const rules = await this.o.protectionRules?.(this.workspace);
      const violations = checkProtection(
        d,
        catalog?.fields ?? {},
        destinationTrust(dst.config),
        (f) =>
          f.from !== undefined
            ? [f.from]
            : [...(plan.fields.find((p) => p.name === f.name)?.compute?.references ?? [])],
        rules,
      );
      if (violations.length > 0) {
        throw new WaybillError(
          'ERR_WAYBILL_DEFINITION_INVALID',
          `${file}: destination "${dst.name}" is trusted as ${destinationTrust(dst.config)}, and the protection rules refuse: ` +
            violations
              .map(
                (v) =>
                  `fields.${v.field} (${v.sensitivity}${v.piiKind ? ` ${v.piiKind}` : ''}, transform ${v.transform}: ${v.has}) — rule ${v.rule}`,
              )
              .join('; ') +
            '. Protect these fields more (see docs/catalog.md, "Protection rules"), or send them to a more trusted destination',
        );
      }
    } catch (err) {
      if (err instanceof WaybillError && !err.message.startsWith(file)) {
        throw new WaybillError(
          err.code === 'ERR_WAYBILL_NOT_FOUND' ? 'ERR_WAYBILL_DEFINITION_INVALID' : err.code,
          `${file}: ${err.message}`,
          { cause: err },
        );
      }
      throw err;
    } finally {
      await source.close();
    }
  }
}
