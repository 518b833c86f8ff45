import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  AUDIT_SALT_SIZE,
  WaybillError,
  auditLeaf,
  auditLeafOpening,
  formatCheckpoint,
  formatTlogProof,
  merkleLeafHash,
  parseVerifierKey,
  parseCheckpoint,
  parseNote,
  signNote,
  verifyConsistency,
  verifyNote,
  vkeyFor,
  type AuditEvent,
} from '@waybill/verify';
import { canonicalJson } from '../json/canonical-json.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Clock } from '../ports/clock.js';
import type { AuditCheckpointRecord, AuditEntryRecord, Store } from '../ports/store.js';
import { StoredMerkleTree } from './stored-merkle-tree.js';

/** What a caller says about an event; the log adds index and time. */
export interface AuditEventInput {
  readonly type: string;
  readonly actor: string;
  readonly workspace: string;
  readonly subjects?: Readonly<Record<string, string>>;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** What the log needs of a key ring: its signing key, and the public keys that verify checkpoints. */
export type LogKeys = Pick<KeyRing, 'signingKey' | 'verificationKeys'> &
  Partial<Pick<KeyRing, 'isAuthentic' | 'assertOpens'>>;

export interface AuditLogOptions {
  readonly store: Store;
  /** Only signing checkpoints needs the private key; reading and proving do not. */
  readonly keys: LogKeys;
  readonly clock: Clock;
  /**
   * A file outside the store that always holds the latest checkpoint, so that deleting the tail of the
   * log from the database is detected (`audit verify` compares the two).
   */
  readonly checkpointFile?: string;
  /** Reading and proving only: never creates the origin, never signs. */
  readonly readOnly?: boolean;
}

// Member names that hint at a secret: refused in event details, whatever their value (STYLE.md §8).
const SECRET_KEY = /pass(word)?|secret|token|api.?key|private|credential/i;

/**
 * The tamper-evident audit log (ARCHITECTURE.md "The audit log"). Events are appended inside the
 * transaction of the change they record; each becomes an RFC 9162 leaf committing to its salted
 * canonical JSON. Signed C2SP checkpoints publish the tree; proofs are served as C2SP tlog-proofs.
 */
export class AuditLog {
  readonly tree: StoredMerkleTree;
  /**
   * Appends made by this process, and how many of them the latest checkpoint it signed (or found)
   * covers: only when it appended something unsigned does a command sign at its end.
   */
  private appends = 0;
  private signedAppends = 0;
  /** The size of the checkpoint the last proof was made against (to read its path ahead). */
  private lastProofSize: number | undefined;

  constructor(private readonly o: AuditLogOptions) {
    this.tree = new StoredMerkleTree(o.store);
  }

  /** The log's origin (the checkpoint's first line and the log key's name), created on first use. */
  async origin(): Promise<string> {
    const head = await this.o.store.auditHead();
    if (head.origin !== null) return head.origin;
    if (this.o.readOnly || head.size > 0) {
      // A log with entries always has its origin: one that lost it was tampered with, and making up a new
      // one would change the log's identity and hide that.
      throw new WaybillError(
        head.size > 0 ? 'ERR_WAYBILL_LOG_TAMPERED' : 'ERR_WAYBILL_NOT_FOUND',
        head.size > 0
          ? `the audit log holds ${head.size} entries but has lost its origin (audit_head.origin); restore the store`
          : 'the audit log is empty and has no origin yet; run `waybill init`',
      );
    }
    return this.o.store.initAuditOrigin(newOrigin());
  }

  /**
   * Appends events inside `tx`, the transaction that makes the change they record: both commit or
   * neither does. Appenders are serialized until `tx` ends.
   */
  async append(tx: Store, inputs: AuditEventInput | readonly AuditEventInput[]): Promise<AuditEntryRecord[]> {
    const list = Array.isArray(inputs) ? (inputs as readonly AuditEventInput[]) : [inputs as AuditEventInput];
    if (list.length === 0) return [];
    for (const e of list) checkNoSecrets(e.type, e.details ?? {});
    const first = await tx.reserveAuditIndexes(list.length);
    // The first append names the log: a log with entries always has its origin.
    if (first === 0 && (await tx.auditHead()).origin === null) await tx.initAuditOrigin(newOrigin());
    const time = this.o.clock.now().toISOString();
    const salts = randomBytes(AUDIT_SALT_SIZE * list.length);
    const leafHashes: Buffer[] = [];
    const records = list.map((input, i): AuditEntryRecord => {
      const event: AuditEvent = {
        index: first + i,
        type: input.type,
        time,
        actor: input.actor,
        workspace: input.workspace,
        subjects: input.subjects ?? {},
        details: input.details ?? {},
      };
      const json = canonicalJson(event);
      const salt = salts.subarray(i * AUDIT_SALT_SIZE, (i + 1) * AUDIT_SALT_SIZE);
      const leaf = auditLeaf(salt, Buffer.from(json, 'utf8'));
      const leafHash = merkleLeafHash(leaf);
      leafHashes.push(leafHash);
      return {
        index: event.index,
        workspace: event.workspace,
        type: event.type,
        actor: event.actor,
        time,
        runId: event.subjects['run'] ?? null,
        event: json,
        salt: salt.toString('base64'),
        leaf: leaf.toString('hex'),
        leafHash: leafHash.toString('hex'),
      };
    });
    await tx.insertAuditEntries(records);
    await this.tree.integrate(tx, first, leafHashes);
    this.appends++;
    return records;
  }

  /** Appends events in a transaction of their own (events that record no other change). */
  async appendNow(inputs: AuditEventInput | readonly AuditEventInput[]): Promise<AuditEntryRecord[]> {
    return this.o.store.transaction((tx) => this.append(tx, inputs));
  }

  /** The log's committed size. */
  async size(): Promise<number> {
    return (await this.o.store.auditHead()).size;
  }

  /**
   * Signs a checkpoint of the log as it is now, unless the latest one already covers it; stores it and
   * writes it to the checkpoint file. Returns the latest checkpoint.
   */
  async checkpoint(): Promise<AuditCheckpointRecord> {
    // One at a time per process (a seal and the interval timer may ask together).
    const next = this.signing.then(() => this.signCheckpoint());
    this.signing = next.catch(() => undefined);
    return next;
  }

  private signing: Promise<unknown> = Promise.resolve();

  private async signCheckpoint(): Promise<AuditCheckpointRecord> {
    const { store, clock } = this.o;
    // Appends committed before this point are covered by what is signed or found below.
    const covers = this.appends;
    const origin = await this.origin();
    // The anchors are read before the size: a checkpoint is only ever written after the appends it
    // covers committed, so the size read next is at least theirs unless the log was truncated.
    // The file first: a process writes it only after storing the checkpoint, so the latest stored one read
    // next is at least as new.
    const fileNote = await this.readCheckpointFile();
    const latest = await store.latestAuditCheckpoint();
    const size = await this.size();
    if (latest && latest.size >= size) {
      await this.assertExtends(origin, latest.size, Buffer.from(latest.rootHash, 'hex'), latest, fileNote);
      await this.writeCheckpointFile(latest);
      this.signedAppends = Math.max(this.signedAppends, covers);
      return latest;
    }
    const root = await this.tree.at(size).root();
    await this.assertExtends(origin, size, root, latest, fileNote);
    const key = await this.o.keys.signingKey('log-signing');
    const note = signNote(formatCheckpoint({ origin, size, rootHash: root }), {
      name: origin,
      privateKey: key.privateKey,
    });
    const record: AuditCheckpointRecord = {
      size,
      rootHash: root.toString('hex'),
      note,
      createdAt: clock.now().toISOString(),
    };
    await store.insertAuditCheckpoint(record);
    // Another process may have signed the same size first; the stored one is the one in force.
    const stored = (await store.auditCheckpointAt(size)) ?? record;
    await this.writeCheckpointFile(stored);
    this.signedAppends = Math.max(this.signedAppends, covers);
    return stored;
  }

  /**
   * Never sign over a rewritten log: the new tree must extend the largest checkpoint signed before it
   * (in the store, or in the checkpoint file, which survives deletions from the store), as shown by an
   * RFC 9162 consistency proof computed from the stored hashes.
   */
  private async assertExtends(
    origin: string,
    size: number,
    root: Buffer,
    latest: AuditCheckpointRecord | undefined,
    fileNote: string | null,
  ): Promise<void> {
    const verifiers = (await this.verifierKeys()).map((k) => parseVerifierKey(k));
    const notes = [
      { what: `the stored checkpoint of size ${latest?.size}`, note: latest?.note },
      { what: `the checkpoint file ${this.o.checkpointFile}`, note: fileNote },
    ];
    let anchor: { size: number; root: Buffer } | null = null;
    for (const { what, note } of notes) {
      if (!note) continue;
      let c;
      try {
        c = parseCheckpoint(verifyNote(note, verifiers).text);
      } catch (err) {
        // A checkpoint that does not verify was replaced or forged: skipping it would leave nothing to
        // compare the log with, so nothing is signed until `audit verify` has been looked at.
        throw new WaybillError(
          'ERR_WAYBILL_LOG_TAMPERED',
          `${what} is not validly signed by this log's key (${(err as Error).message}); refusing to sign a new checkpoint. Run \`waybill audit verify\``,
        );
      }
      if (c.origin !== origin) {
        throw new WaybillError(
          'ERR_WAYBILL_LOG_TAMPERED',
          `${what} is from another log (${c.origin}); refusing to sign a new checkpoint`,
        );
      }
      if (!anchor || Number(c.size) > anchor.size) anchor = { size: Number(c.size), root: c.rootHash };
    }
    if (anchor === null || anchor.size === 0) return;
    let ok: boolean;
    if (anchor.size > size) ok = false;
    else if (anchor.size === size) ok = anchor.root.equals(root);
    else {
      try {
        const proof = await this.tree.at(size).consistencyProof(anchor.size);
        verifyConsistency(anchor.size, size, proof, anchor.root, root);
        ok = true;
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      throw new WaybillError(
        'ERR_WAYBILL_LOG_TAMPERED',
        `the audit log no longer extends its signed checkpoint of size ${anchor.size}; refusing to sign a new one. Run \`waybill audit verify\` to find what changed`,
      );
    }
  }

  private async readCheckpointFile(): Promise<string | null> {
    return this.o.checkpointFile === undefined
      ? null
      : readFile(this.o.checkpointFile, 'utf8').catch(() => null);
  }

  /**
   * Signs a checkpoint when this process appended and the log grew since the latest one (for the end of
   * a command, and the interval timer). Reading never signs, so a read-only command never fails on a
   * log it cannot vouch for.
   */
  async checkpointIfBehind(): Promise<void> {
    if (this.appends > this.signedAppends) await this.checkpoint();
  }

  /**
   * For long-running processes (a server, a worker): signs a checkpoint whenever the log has grown, at
   * most `intervalMs` after an append (default 1 s), so a checkpoint is never more than that behind
   * under load. Seals still checkpoint at once. Returns a function that stops the timer and signs a
   * last checkpoint.
   */
  startCheckpointing(
    options: { intervalMs?: number; onError?: (err: unknown) => void } = {},
  ): () => Promise<void> {
    const interval = options.intervalMs ?? 1000;
    let running: Promise<void> = Promise.resolve();
    const tick = (): void => {
      running = running.then(() => this.checkpointIfBehind()).catch((err: unknown) => options.onError?.(err));
    };
    const timer = setInterval(tick, interval);
    timer.unref();
    return async () => {
      clearInterval(timer);
      tick();
      await running;
    };
  }

  /** The latest signed checkpoint, or undefined when none was signed yet. */
  latestCheckpoint(): Promise<AuditCheckpointRecord | undefined> {
    return this.o.store.latestAuditCheckpoint();
  }

  /** The log's verifier key(s) in signed-note vkey form, current first. */
  async verifierKeys(): Promise<string[]> {
    const origin = await this.origin();
    // Newest first: the current key, then retired ones (still trusted for what they signed).
    const records = (await this.o.store.listKeys('default', 'log-signing'))
      .filter((r) => r.publicKey !== null)
      .sort(
        (a, b) =>
          Number(a.retiredAt !== null) - Number(b.retiredAt !== null) || (a.createdAt < b.createdAt ? 1 : -1),
      );
    const out: string[] = [];
    // No key at all opens: the master key in use is the wrong one (say, from before a rotation), which
    // is not tampering; say so rather than distrust every checkpoint.
    if (records.length > 0 && this.o.keys.assertOpens && this.o.keys.isAuthentic) {
      if (!records.some((r) => this.o.keys.isAuthentic!(r))) this.o.keys.assertOpens(records[0]!);
    }
    for (const r of records) {
      // A key that does not parse, or (when the master key is at hand) is not the public half of its
      // sealed private key, was planted in the store: it vouches for nothing.
      if (this.o.keys.isAuthentic && !this.o.keys.isAuthentic(r)) continue;
      try {
        out.push(vkeyFor(origin, createPublicKey(r.publicKey!)));
      } catch {
        continue;
      }
    }
    return out;
  }

  /** One entry; `ERR_WAYBILL_NOT_FOUND` past the end. */
  async entry(index: number): Promise<AuditEntryRecord> {
    const [r] = await this.o.store.auditEntries(index, 1);
    if (!r || r.index !== index) {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `the audit log has no entry ${index} (it holds ${await this.size()})`,
      );
    }
    return r;
  }

  /**
   * A C2SP tlog-proof for entry `index` against the signed checkpoint of `size` (default the latest).
   * Its `extra` line opens the leaf (salt || canonical event) unless the entry was redacted.
   */
  async proof(index: number, size?: number): Promise<string> {
    // One read in the usual case: the entry, the checkpoint and the nodes of the path for the checkpoint
    // size seen last (checkpoints change far less often than proofs are asked for). If the checkpoint
    // turns out to be another size, a second read gets the path for it.
    const guess = size ?? this.lastProofSize;
    const ahead = guess !== undefined ? this.tree.at(guess) : undefined;
    const { checkpoint, entry, hashes } = await this.o.store.auditEntryAndCheckpoint(
      index,
      size,
      ahead?.inclusionKeys(index) ?? [],
    );
    if (!checkpoint) {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        size === undefined
          ? 'the audit log has no signed checkpoint yet'
          : `there is no signed checkpoint of size ${size}; \`waybill audit checkpoint\` shows the latest`,
      );
    }
    if (index >= checkpoint.size) {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `entry ${index} is not covered by the checkpoint of size ${checkpoint.size}`,
      );
    }
    if (!entry || entry.index !== index) {
      throw new WaybillError('ERR_WAYBILL_NOT_FOUND', `the audit log has no entry ${index}`);
    }
    this.lastProofSize = checkpoint.size;
    const path =
      (ahead?.size === checkpoint.size ? ahead.inclusionProofFrom(index, hashes) : null) ??
      (await this.tree.at(checkpoint.size).inclusionProof(index));
    const extra =
      entry.event !== null && entry.salt !== null
        ? auditLeafOpening(Buffer.from(entry.salt, 'base64'), Buffer.from(entry.event, 'utf8'))
        : null;
    return formatTlogProof({ extra, index, proof: path, checkpoint: checkpoint.note });
  }

  /** RFC 9162 consistency proof between two signed checkpoint sizes. */
  async consistency(
    oldSize: number,
    newSize?: number,
  ): Promise<{ oldSize: number; newSize: number; proof: Buffer[] }> {
    const latest = await this.latestCheckpoint();
    const target = newSize ?? latest?.size;
    if (target === undefined)
      throw new WaybillError('ERR_WAYBILL_NOT_FOUND', 'the audit log has no signed checkpoint yet');
    for (const s of [oldSize, target]) {
      if (!(await this.o.store.auditCheckpointAt(s)) && s !== 0) {
        throw new WaybillError('ERR_WAYBILL_NOT_FOUND', `there is no signed checkpoint of size ${s}`);
      }
    }
    if (oldSize < 1) {
      throw new WaybillError(
        'ERR_WAYBILL_USAGE',
        'the old size must be at least 1: every tree extends the empty one, there is nothing to prove',
      );
    }
    if (oldSize > target) {
      throw new WaybillError(
        'ERR_WAYBILL_USAGE',
        `the old size ${oldSize} is larger than the new size ${target}`,
      );
    }
    return { oldSize, newSize: target, proof: await this.tree.at(target).consistencyProof(oldSize) };
  }

  /**
   * GDPR erasure: removes entry `index`'s event and salt, keeping its leaf, and logs the redaction.
   * Every proof stays valid; the erased content cannot be recovered from the leaf.
   */
  async redact(index: number, reason: string, actor: string, workspace: string): Promise<AuditEntryRecord> {
    if (reason.trim() === '') throw new WaybillError('ERR_WAYBILL_USAGE', 'a redaction needs a --reason');
    return this.o.store.transaction(async (tx) => {
      const [e] = await tx.auditEntries(index, 1);
      if (!e || e.index !== index)
        throw new WaybillError('ERR_WAYBILL_NOT_FOUND', `the audit log has no entry ${index}`);
      if (e.type === 'audit.redacted') {
        throw new WaybillError(
          'ERR_WAYBILL_CONFLICT',
          `audit entry ${index} records a redaction; it is kept so that the erasure stays accounted for`,
        );
      }
      if (e.event === null || !(await tx.redactAuditEntry(index))) {
        throw new WaybillError('ERR_WAYBILL_CONFLICT', `audit entry ${index} is already redacted`);
      }
      const [logged] = await this.append(tx, {
        type: 'audit.redacted',
        actor,
        workspace,
        subjects: { entry: String(index) },
        details: { reason, type: e.type },
      });
      return logged!;
    });
  }

  private async writeCheckpointFile(c: AuditCheckpointRecord): Promise<void> {
    const file = this.o.checkpointFile;
    if (file === undefined) return;
    const current = await readFile(file, 'utf8').catch(() => null);
    if (current !== null) {
      // Never move the file backwards (another process may have written a newer one).
      try {
        if (parseCheckpoint(parseNote(current).text).size >= BigInt(c.size)) return;
      } catch {
        // An unreadable file is replaced; `audit verify` reports what it found before.
      }
    }
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, c.note, { mode: 0o644 });
    await rename(tmp, file);
  }
}

/** A fresh log origin: a schema-less URL-like name without spaces or `+` (c2sp.org/tlog-checkpoint). */
function newOrigin(): string {
  return `waybill.local/audit/${randomBytes(8).toString('hex')}`;
}

function checkNoSecrets(type: string, details: Readonly<Record<string, unknown>>, path = 'details'): void {
  for (const [k, v] of Object.entries(details)) {
    if (SECRET_KEY.test(k)) {
      throw new WaybillError(
        'ERR_WAYBILL_INTERNAL',
        `audit event ${type}: ${path}.${k} looks like a secret; audit events never hold secrets`,
      );
    }
    if (v && typeof v === 'object' && !Array.isArray(v))
      checkNoSecrets(type, v as Record<string, unknown>, `${path}.${k}`);
  }
}
