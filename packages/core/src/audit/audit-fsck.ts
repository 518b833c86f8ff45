import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  WaybillError,
  auditLeaf,
  merkleLeafHash,
  parseCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  noteKeyId,
  verifyNote,
  type NoteVerifier,
} from '@waybill/verify';
import type { AuditCheckpointRecord, AuditEntryRecord, Store } from '../ports/store.js';
import { StoredMerkleTree, TreeFrontier } from './stored-merkle-tree.js';

/** The outcome of a full check of the audit log (`waybill audit verify`). */
export interface AuditFsckReport {
  readonly valid: boolean;
  /** Entries the store holds. */
  readonly size: number;
  /** The first entry that is wrong or missing, when the log is not valid. */
  readonly firstBadIndex?: number;
  /** What is wrong, first problem first (at most 50). */
  readonly problems: readonly { readonly index: number | null; readonly message: string }[];
  readonly checkpoints: number;
  readonly latestCheckpointSize: number | null;
}

export interface AuditFsckOptions {
  readonly store: Store;
  /** The log's verifier keys (vkeys): every checkpoint must be signed by one of them. */
  readonly verifierKeys: readonly string[];
  readonly origin: string;
  /** The checkpoint kept outside the store, when there is one. */
  readonly checkpointFile?: string;
  readonly onProgress?: (checked: number, total: number) => void;
  readonly signal?: AbortSignal;
}

const BATCH = 5000;
const MAX_PROBLEMS = 50;

/**
 * Rehashes the whole log: recomputes every leaf from its stored event and salt, checks each event sits
 * at the index it committed to, rebuilds the tree and compares it with the stored interior hashes,
 * with every stored checkpoint (signature and root) and with the checkpoint kept outside the store, and
 * checks consistency between successive checkpoints. Names the first bad index and why.
 */
export async function fsckAuditLog(o: AuditFsckOptions): Promise<AuditFsckReport> {
  const { store } = o;
  const problems: { index: number | null; message: string; precise: boolean }[] = [];
  // Entry-level findings name the exact entry; tree- and checkpoint-level ones only bound it (the first
  // entry no longer vouched for). The first bad index prefers the exact ones.
  let exact = Infinity;
  let bounds = Infinity;
  const problem = (index: number | null, message: string, precise = true): void => {
    if (index !== null && precise) exact = Math.min(exact, index);
    else if (index !== null) bounds = Math.min(bounds, index);
    if (problems.length < MAX_PROBLEMS) problems.push({ index, message, precise: precise && index !== null });
  };
  const bound = (index: number, message: string): void => problem(index, message, false);
  const verifiers: NoteVerifier[] = o.verifierKeys.map((k) => parseVerifierKey(k));
  // Read in the order things are written (the file after its checkpoint is stored, a checkpoint after
  // its entries committed), and scan only the entries the head counted: appends and checkpoints made by
  // others while this runs are not mistaken for tampering.
  const fileText =
    o.checkpointFile === undefined ? null : await readFile(o.checkpointFile, 'utf8').catch(() => null);
  const checkpoints = await store.auditCheckpoints();
  const head = await store.auditHead();
  const rotations = new Map<string, number>();
  const first = await store.auditEntries(Number.MIN_SAFE_INTEGER, 1);
  if (first[0] !== undefined && first[0].index < 0) {
    problem(
      0,
      `the store holds an entry with index ${first[0].index}: entries outside the log were inserted`,
    );
  }
  const redactions = new Set<number>();
  const redacted: number[] = [];

  // The tree is rebuilt incrementally (a stack of perfect subtrees); every node it completes is
  // compared with the stored one, batch by batch.
  const frontier = new TreeFrontier();
  const checkpointRoots = new Map<number, Buffer>();
  const wantedSizes = new Set(checkpoints.map((c) => c.size));
  let nodeMismatch = false;

  let expected = 0;
  for (;;) {
    o.signal?.throwIfAborted();
    const rows = (await store.auditEntries(expected, Math.min(BATCH, head.size - expected))).filter(
      (r) => r.index < head.size,
    );
    if (rows.length === 0 || expected >= head.size) break;
    const created: { height: number; index: number; hash: Buffer }[] = [];
    for (const r of rows) {
      if (r.index !== expected) {
        problem(
          expected,
          `entry ${expected} is missing (the next stored entry is ${r.index}): entries were deleted`,
        );
        // Carry on with what is there, so later problems are still found; the tree is already wrong.
        expected = r.index;
      }
      checkEntry(r, problem, redactions, redacted, rotations);
      created.push(...frontier.push(expected, Buffer.from(r.leafHash, 'hex')));
      expected++;
      if (wantedSizes.has(expected)) checkpointRoots.set(expected, frontier.root());
    }
    if (!nodeMismatch) nodeMismatch = await compareNodes(store, created, bound);
    o.onProgress?.(expected, head.size);
  }
  const size = expected;
  if (head.size !== size) {
    bound(
      Math.min(head.size, size),
      `the log's head says it holds ${head.size} entries, but ${size} are stored`,
    );
  }
  for (const i of redacted) {
    if (!redactions.has(i)) problem(i, `entry ${i} was erased, but no audit.redacted event records it`);
  }

  // Every stored checkpoint: signed by the log key, root equal to the rebuilt tree's at its size.
  let previous: { size: number; root: Buffer } | null = null;
  // Entries up to the largest checkpoint that still matches are vouched for; anything wrong is after it.
  let lastGood = 0;
  // Note key ids of the log keys, and the entry at which each was replaced (from the logged rotations).
  const retiredAtEntry = new Map<string, number>();
  for (const r of await store.listKeys('default', 'log-signing')) {
    const at = rotations.get(r.id);
    if (at === undefined || r.publicKey === null) continue;
    try {
      retiredAtEntry.set(noteKeyId(o.origin, createPublicKey(r.publicKey)), at);
    } catch {
      // An unreadable key verifies nothing anyway.
    }
  }
  for (const c of checkpoints) {
    const root = checkCheckpoint(c.note, `stored checkpoint of size ${c.size}`, verifiers, o.origin, (m) =>
      bound(lastGood, m),
    );
    if (root === null) continue;
    if (!signedInForce(root.keyIds, c.size, retiredAtEntry)) {
      bound(
        lastGood,
        `the stored checkpoint of size ${c.size} is signed only by a log key that a logged rotation retired before it: a retired key cannot vouch for later entries`,
      );
      continue;
    }
    if (root.size !== c.size) {
      problem(null, `the stored checkpoint row of size ${c.size} holds a note of size ${root.size}`);
      continue;
    }
    if (c.size > size) {
      bound(
        size,
        `the signed checkpoint of size ${c.size} covers entries ${size}…${c.size - 1}, which are gone: the log was truncated`,
      );
      continue;
    }
    const mine = c.size === 0 ? null : checkpointRoots.get(c.size);
    if (mine && mine.equals(root.rootHash)) lastGood = c.size;
    else if (mine) {
      bound(
        lastGood,
        `the entries no longer match the signed checkpoint of size ${c.size}: entries before ${c.size} were changed, reordered or replaced`,
      );
    }
    if (previous && previous.size > 0) {
      try {
        const proof = await new StoredMerkleTree(store).at(c.size).consistencyProof(previous.size);
        verifyConsistency(previous.size, c.size, proof, previous.root, root.rootHash);
      } catch (err) {
        const missing = err instanceof WaybillError && err.code === 'ERR_WAYBILL_LOG_TAMPERED';
        bound(
          previous.size,
          missing
            ? `the consistency of the checkpoints of sizes ${previous.size} and ${c.size} cannot be shown: ${err.message}`
            : `the checkpoints of sizes ${previous.size} and ${c.size} are not consistent: the log was rewritten between them`,
        );
      }
    }
    previous = { size: c.size, root: root.rootHash };
  }

  // The checkpoint kept outside the store: deleting the log's tail (and its checkpoints) shows here.
  if (o.checkpointFile !== undefined) {
    const text = fileText;
    if (text === null) {
      if (checkpoints.length > 0) problem(null, `the checkpoint file ${o.checkpointFile} is missing`);
    } else {
      const c = checkCheckpoint(text, `checkpoint file ${o.checkpointFile}`, verifiers, o.origin, (m) =>
        bound(lastGood, m),
      );
      if (c !== null) {
        const n = Number(c.size);
        if (n > size) {
          bound(
            Math.min(size, lastGood),
            `the checkpoint file ${o.checkpointFile} covers ${n} entries, but the store holds ${size}: the log was truncated`,
          );
        } else if (n > 0) {
          const root = await rootAt(store, n, checkpointRoots).catch(() => null);
          if (root === null || !root.equals(c.rootHash)) {
            bound(
              lastGood,
              `the entries no longer match the checkpoint file ${o.checkpointFile} (size ${n})`,
            );
          }
        }
        const latest = checkpoints[checkpoints.length - 1];
        if (!latest || latest.size < n) {
          bound(
            latest ? latest.size : 0,
            `the store's latest checkpoint (size ${latest?.size ?? 0}) is older than the checkpoint file's (size ${n}): checkpoints were deleted`,
          );
        }
      }
    }
  }

  const pick = exact !== Infinity ? exact : bounds;
  const firstBadIndex = pick !== Infinity ? pick : undefined;
  // Problems ordered by where they are, so the first line names the first bad entry.
  problems.sort(
    (a, b) => Number(b.precise) - Number(a.precise) || (a.index ?? Infinity) - (b.index ?? Infinity),
  );
  return {
    valid: problems.length === 0,
    size,
    ...(firstBadIndex !== undefined ? { firstBadIndex } : {}),
    problems: problems.map(({ index, message }) => ({ index, message })),
    checkpoints: checkpoints.length,
    latestCheckpointSize: checkpoints.length > 0 ? checkpoints[checkpoints.length - 1]!.size : null,
  };
}

function checkEntry(
  r: AuditEntryRecord,
  problem: (index: number | null, message: string) => void,
  redactions: Set<number>,
  redacted: number[],
  rotations: Map<string, number>,
): void {
  const i = r.index;
  if (Buffer.from(r.leafHash, 'hex').toString('hex') !== r.leafHash || r.leafHash.length !== 64) {
    problem(i, `entry ${i}: the stored leaf hash is malformed`);
    return;
  }
  if (!merkleLeafHash(Buffer.from(r.leaf, 'hex')).equals(Buffer.from(r.leafHash, 'hex'))) {
    problem(i, `entry ${i}: the stored leaf hash is not SHA-256(0x00 || leaf)`);
  }
  if (r.event === null || r.salt === null) {
    if (r.event !== null || r.salt !== null) problem(i, `entry ${i}: only one of event and salt was erased`);
    redacted.push(i);
    return;
  }
  const salt = Buffer.from(r.salt, 'base64');
  const leaf = salt.length === 32 ? auditLeaf(salt, Buffer.from(r.event, 'utf8')) : null;
  if (leaf === null || leaf.toString('hex') !== r.leaf) {
    problem(i, `entry ${i}: its event or salt was changed (they no longer hash to the entry's leaf)`);
    return;
  }
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(r.event) as Record<string, unknown>;
  } catch {
    problem(i, `entry ${i}: the event is not JSON`);
    return;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    problem(i, `entry ${i}: the event is not a JSON object`);
    return;
  }
  if (event['index'] !== i) {
    problem(i, `entry ${i} holds the event logged as entry ${String(event['index'])}: entries were moved`);
  }
  const subjects = (event['subjects'] ?? {}) as Record<string, unknown>;
  if (
    event['type'] !== r.type ||
    event['actor'] !== r.actor ||
    event['time'] !== r.time ||
    event['workspace'] !== r.workspace ||
    (subjects['run'] ?? null) !== r.runId
  ) {
    problem(
      i,
      `entry ${i}: the searchable columns (type, actor, time, workspace, run) differ from its event`,
    );
  }
  const details = (event['details'] ?? {}) as Record<string, unknown>;
  if (event['type'] === 'key.rotated' && details['purpose'] === 'log-signing') {
    // The replaced log key vouches for nothing logged after its rotation.
    if (typeof details['replaces'] === 'string') rotations.set(details['replaces'], i);
  }
  if (event['type'] === 'audit.redacted') {
    const target = Number(subjects['entry']);
    if (Number.isSafeInteger(target)) redactions.add(target);
  }
}

/** Compares rebuilt nodes with the stored ones; reports the first mismatch and returns whether any. */
async function compareNodes(
  store: Store,
  created: readonly { height: number; index: number; hash: Buffer }[],
  bound: (index: number, message: string) => void,
): Promise<boolean> {
  const byHeight = new Map<number, { index: number; hash: Buffer }[]>();
  for (const n of created) {
    const list = byHeight.get(n.height) ?? [];
    list.push(n);
    byHeight.set(n.height, list);
  }
  for (const [height, list] of [...byHeight].sort((a, b) => a[0] - b[0])) {
    const from = list[0]!.index;
    const stored = await store.auditNodes(height, from, list[list.length - 1]!.index + 1);
    const byIndex = new Map(stored.map((r) => [r.index, r.hash]));
    for (const n of list) {
      if (byIndex.get(n.index) !== n.hash.toString('hex')) {
        const first = n.index * 2 ** height;
        bound(
          first,
          `the stored hash of entries ${first}…${first + 2 ** height - 1} (height ${height}) ${byIndex.has(n.index) ? 'does not match them' : 'is missing'}`,
        );
        return true;
      }
    }
  }
  return false;
}

function checkCheckpoint(
  note: string,
  what: string,
  verifiers: readonly NoteVerifier[],
  origin: string,
  report: (message: string) => void,
): { size: number; rootHash: Buffer; keyIds: string[] } | null {
  try {
    const verified = verifyNote(note, verifiers);
    const c = parseCheckpoint(verified.text);
    if (c.origin !== origin) {
      report(`the ${what} is from log ${JSON.stringify(c.origin)}, not this log (${origin})`);
      return null;
    }
    return { size: Number(c.size), rootHash: c.rootHash, keyIds: verified.verifiedBy.map((v) => v.keyId) };
  } catch (err) {
    report(`the ${what} is not validly signed by this log's key: ${(err as Error).message}`);
    return null;
  }
}

/**
 * Whether one of the keys that signed a checkpoint of `size` was still in force: a log key replaced by
 * a logged rotation at entry R vouches only for checkpoints of at most R entries.
 */
function signedInForce(
  keyIds: readonly string[],
  size: number,
  retiredAtEntry: ReadonlyMap<string, number>,
): boolean {
  return keyIds.some((k) => {
    const r = retiredAtEntry.get(k);
    return r === undefined || size <= r;
  });
}

async function rootAt(store: Store, size: number, known: Map<number, Buffer>): Promise<Buffer> {
  const k = known.get(size);
  if (k) return k;
  return new StoredMerkleTree(store).at(size).root();
}

/** Thrown by commands that require a valid log. */
export function tamperedError(report: AuditFsckReport): WaybillError {
  const first = report.problems[0];
  return new WaybillError(
    'ERR_WAYBILL_LOG_TAMPERED',
    `the audit log is not intact${report.firstBadIndex !== undefined ? ` from entry ${report.firstBadIndex}` : ''}: ${first?.message ?? 'unknown problem'}`,
  );
}

export type { AuditCheckpointRecord };
