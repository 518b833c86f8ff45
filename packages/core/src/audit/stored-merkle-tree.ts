import { WaybillError, merkleEmptyRoot, merkleNodeHash } from '@waybill/verify';
import type { AuditNodeKey, Store } from '../ports/store.js';

/**
 * The audit log's RFC 9162 tree over the hashes the store keeps: every leaf hash, and the hash of every
 * complete subtree (node `i` at height `h` covers leaves `[i·2^h, (i+1)·2^h)`), written once when the
 * subtree completes and never changed. This is the information C2SP tlog-tiles publish, stored one node
 * per row: any root or proof is a handful of stored nodes read in one or two queries and at most a few
 * dozen hashes, so proofs at any log size never rehash the log.
 *
 * Indexes are plain numbers (exact up to 2^53, far past 2^31); no 32-bit bitwise arithmetic is used.
 */
export class StoredMerkleTree {
  constructor(private readonly store: Store) {}

  /** A reader for the tree of the first `size` leaves. */
  at(size: number): TreeReader {
    return new TreeReader(this.store, size);
  }

  /**
   * Stores the nodes that the leaves `[oldSize, oldSize + leafHashes.length)` complete. Call in the
   * transaction that inserted those leaves.
   */
  async integrate(tx: Store, oldSize: number, leafHashes: readonly Buffer[]): Promise<void> {
    // The old tree's perfect subtrees (left to right, tallest first) are the stack an incremental
    // build would hold after `oldSize` leaves.
    const peaks = decompose(0, oldSize);
    const stored = await fetchNodes(tx, peaks, oldSize);
    const frontier = new TreeFrontier(peaks.map((k) => ({ ...k, hash: stored.get(key(k))! })));
    const created: { height: number; index: number; hash: string }[] = [];
    leafHashes.forEach((hash, i) => {
      for (const n of frontier.push(oldSize + i, hash))
        created.push({ height: n.height, index: n.index, hash: n.hash.toString('hex') });
    });
    await tx.insertAuditNodes(created);
  }
}

export interface TreeNode extends AuditNodeKey {
  readonly hash: Buffer;
}

/**
 * An RFC 9162 tree built leaf by leaf: the stack of its perfect subtrees, tallest first (the right
 * edge, or "compact range"). Appends and `audit verify` both build the tree this way.
 */
export class TreeFrontier {
  private readonly stack: TreeNode[];

  constructor(peaks: readonly TreeNode[] = []) {
    this.stack = [...peaks];
  }

  /** Adds leaf `index` with `leafHash`; returns the nodes it completes, lowest first. */
  push(index: number, leafHash: Buffer): TreeNode[] {
    const stack = this.stack;
    const completed: TreeNode[] = [];
    stack.push({ height: 0, index, hash: leafHash });
    for (;;) {
      const right = stack[stack.length - 1]!;
      const left = stack[stack.length - 2];
      if (left === undefined || left.height !== right.height) break;
      stack.length -= 2;
      const node = {
        height: right.height + 1,
        index: Math.floor(left.index / 2),
        hash: merkleNodeHash(left.hash, right.hash),
      };
      stack.push(node);
      completed.push(node);
    }
    return completed;
  }

  /** MTH of the leaves pushed so far (not defined for none). */
  root(): Buffer {
    const s = this.stack;
    let acc = s[s.length - 1]!.hash;
    for (let j = s.length - 2; j >= 0; j--) acc = merkleNodeHash(s[j]!.hash, acc);
    return acc;
  }
}

/** RFC 9162 hashes and proofs for one tree size. */
export class TreeReader {
  constructor(
    private readonly store: Store,
    readonly size: number,
  ) {}

  /** MTH(D[0:size]) (RFC 9162 §2.1.1). */
  async root(): Promise<Buffer> {
    if (this.size === 0) return merkleEmptyRoot();
    const [root] = await this.hashes([[0, this.size]]);
    return root!;
  }

  /** PATH(m, D[0:size]) (RFC 9162 §2.1.3.1), leaf sibling first. */
  async inclusionProof(index: number): Promise<Buffer[]> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `entry ${index} is not in a tree of ${this.size} entries`,
      );
    }
    return this.hashes(pathRanges(index, 0, this.size));
  }

  /** The stored nodes PATH(m, D[0:size]) is made of: to read them ahead, with other data. */
  inclusionKeys(index: number): AuditNodeKey[] {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) return [];
    return pathRanges(index, 0, this.size).flatMap(([lo, hi]) => decompose(lo, hi));
  }

  /**
   * PATH(m, D[0:size]) from hashes read ahead (see {@link inclusionKeys}); null when one is missing
   * (then ask {@link inclusionProof}, which says what is missing).
   */
  inclusionProofFrom(index: number, hashes: readonly (AuditNodeKey & { hash: string })[]): Buffer[] | null {
    const stored = new Map(hashes.map((h) => [key(h), Buffer.from(h.hash, 'hex')]));
    const parts = pathRanges(index, 0, this.size).map(([lo, hi]) => decompose(lo, hi));
    if (!parts.every((nodes) => nodes.every((n) => stored.has(key(n))))) return null;
    return parts.map((nodes) => fold(nodes, stored));
  }

  /** PROOF(m, D[0:size]) (RFC 9162 §2.1.4.1): that the tree of `oldSize` leaves is a prefix of this one. */
  async consistencyProof(oldSize: number): Promise<Buffer[]> {
    if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > this.size) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `a tree of ${oldSize} entries cannot be a prefix of one of ${this.size}`,
      );
    }
    if (oldSize === 0 || oldSize === this.size) return [];
    return this.hashes(subproofRanges(oldSize, 0, this.size, true));
  }

  /** MTH of each range, reading every stored node they need in one go. */
  private async hashes(ranges: readonly (readonly [number, number])[]): Promise<Buffer[]> {
    const parts = ranges.map(([lo, hi]) => decompose(lo, hi));
    const stored = await fetchNodes(this.store, parts.flat(), this.size);
    return parts.map((nodes) => fold(nodes, stored));
  }
}

/** MTH(D[lo:hi]) = H(first subtree, MTH(rest)): its subtrees folded from the right. */
function fold(nodes: readonly AuditNodeKey[], stored: ReadonlyMap<string, Buffer>): Buffer {
  let acc = stored.get(key(nodes[nodes.length - 1]!))!;
  for (let j = nodes.length - 2; j >= 0; j--) acc = merkleNodeHash(stored.get(key(nodes[j]!))!, acc);
  return acc;
}

const key = (k: AuditNodeKey): string => `${k.height}/${k.index}`;

async function fetchNodes(
  store: Store,
  keys: readonly AuditNodeKey[],
  size: number,
): Promise<Map<string, Buffer>> {
  const wanted = new Map<string, AuditNodeKey>();
  for (const k of keys) wanted.set(key(k), k);
  const out = new Map<string, Buffer>();
  if (wanted.size === 0) return out;
  for (const r of await store.auditTreeHashes([...wanted.values()]))
    out.set(key(r), Buffer.from(r.hash, 'hex'));
  for (const [k, n] of wanted) {
    if (!out.has(k)) {
      throw new WaybillError(
        'ERR_WAYBILL_LOG_TAMPERED',
        n.height === 0
          ? `the audit log has no entry ${n.index}, but holds ${size}: entries were deleted; run \`waybill audit verify\``
          : `the audit log's stored hash of entries ${n.index * 2 ** n.height}…${(n.index + 1) * 2 ** n.height - 1} is missing; run \`waybill audit verify\``,
      );
    }
  }
  return out;
}

/**
 * The perfect subtrees whose hashes make up MTH(D[lo:hi]), left to right. RFC 9162 splits a range at
 * the largest power of two below its size; every range reached from [0, n) that way starts at a multiple
 * of the smallest power of two at least its size, so the left part is always a stored node.
 */
export function decompose(lo: number, hi: number): AuditNodeKey[] {
  const out: AuditNodeKey[] = [];
  while (lo < hi) {
    const n = hi - lo;
    const k = isPowerOfTwo(n) ? n : largestPowerOfTwoBelow(n);
    const height = Math.round(Math.log2(k));
    out.push({ height, index: lo / k });
    lo += k;
  }
  return out;
}

/** The ranges whose MTH make up PATH(m, D[lo:hi]), leaf sibling first. */
function pathRanges(m: number, lo: number, hi: number): [number, number][] {
  const out: [number, number][] = [];
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m < lo + k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo += k;
    }
  }
  return out.reverse();
}

/** The ranges whose MTH make up SUBPROOF(m, D[lo:hi], whole), in proof order. */
function subproofRanges(m: number, lo: number, hi: number, whole: boolean): [number, number][] {
  const out: [number, number][] = [];
  for (;;) {
    const n = hi - lo;
    if (m === n) {
      if (!whole) out.push([lo, hi]);
      break;
    }
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      m -= k;
      lo += k;
      whole = false;
    }
  }
  return out.reverse();
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** The largest power of two strictly below `n` (n >= 2), exact for any safe integer. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 2 ** Math.floor(Math.log2(n - 1));
  while (k * 2 < n) k *= 2;
  while (k >= n) k /= 2;
  return k;
}
