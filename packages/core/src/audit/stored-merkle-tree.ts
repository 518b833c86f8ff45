import { WaybillError, merkleEmptyRoot, merkleNodeHash } from '@waybill/verify';
import type { Store } from '../ports/store.js';

/** Heights at which interior hashes are stored: 0 (leaf hashes), 8, 16, …: C2SP tlog-tiles' rows. */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;

/**
 * The audit log's RFC 9162 tree over the hashes the store keeps: leaf hashes, and the roots of every
 * complete 2^8, 2^16, … subtree. Any hash the log needs (a root, an inclusion or consistency proof) is
 * computed from at most one 256-wide tile per stored height, so proofs never rehash the log.
 *
 * Indexes are plain numbers (exact up to 2^53, far past 2^31); no 32-bit bitwise arithmetic is used.
 */
export class StoredMerkleTree {
  constructor(private readonly store: Store) {}

  /** A reader for the tree of the first `size` leaves; it caches the tiles it reads. */
  at(size: number): TreeReader {
    return new TreeReader(this.store, size);
  }

  /**
   * Stores the roots of the subtrees that the leaves `[oldSize, newSize)` completed. Call in the
   * transaction that inserted those leaves, after inserting them.
   */
  async integrate(tx: Store, oldSize: number, newSize: number): Promise<void> {
    const reader = new TreeReader(tx, newSize);
    for (let height = TILE_HEIGHT; 2 ** height <= newSize; height += TILE_HEIGHT) {
      const width = 2 ** height;
      const first = Math.floor(oldSize / width);
      const end = Math.floor(newSize / width);
      const nodes: { index: number; hash: string }[] = [];
      for (let i = first; i < end; i++) {
        const hash = await reader.subtree(height, i, /* fromBelow */ true);
        nodes.push({ index: i, hash: hash.toString('hex') });
      }
      await tx.insertAuditNodes(height, nodes);
      reader.forget(height);
    }
  }
}

/** RFC 9162 hashes and proofs for one tree size. */
export class TreeReader {
  private readonly tiles = new Map<string, Buffer[]>();

  constructor(
    private readonly store: Store,
    readonly size: number,
  ) {}

  /** MTH(D[0:size]) (RFC 9162 §2.1.1). */
  async root(): Promise<Buffer> {
    return this.size === 0 ? merkleEmptyRoot() : this.mth(0, this.size);
  }

  /** PATH(m, D[0:size]) (RFC 9162 §2.1.3.1), leaf sibling first. */
  async inclusionProof(index: number): Promise<Buffer[]> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `entry ${index} is not in a tree of ${this.size} entries`,
      );
    }
    return this.path(index, 0, this.size);
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
    return this.subproof(oldSize, 0, this.size, true);
  }

  /** Drops cached tiles of a stored height (after new nodes were stored at it). */
  forget(height: number): void {
    for (const key of [...this.tiles.keys()]) if (key.startsWith(`${height}/`)) this.tiles.delete(key);
  }

  private async path(m: number, lo: number, hi: number): Promise<Buffer[]> {
    const n = hi - lo;
    if (n === 1) return [];
    const k = largestPowerOfTwoBelow(n);
    if (m < lo + k) return [...(await this.path(m, lo, lo + k)), await this.mth(lo + k, hi)];
    return [...(await this.path(m, lo + k, hi)), await this.mth(lo, lo + k)];
  }

  private async subproof(m: number, lo: number, hi: number, whole: boolean): Promise<Buffer[]> {
    const n = hi - lo;
    if (m === n) return whole ? [] : [await this.mth(lo, hi)];
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) return [...(await this.subproof(m, lo, lo + k, whole)), await this.mth(lo + k, hi)];
    return [...(await this.subproof(m - k, lo + k, hi, false)), await this.mth(lo, lo + k)];
  }

  /** MTH(D[lo:hi]) for 0 <= lo < hi <= size. */
  private async mth(lo: number, hi: number): Promise<Buffer> {
    const n = hi - lo;
    if (isPowerOfTwo(n) && lo % n === 0) return this.subtree(Math.round(Math.log2(n)), lo / n, false);
    const k = largestPowerOfTwoBelow(n);
    return merkleNodeHash(await this.mth(lo, lo + k), await this.mth(lo + k, hi));
  }

  /**
   * The root of the complete subtree of height `h` whose leaves are `[i·2^h, (i+1)·2^h)`. Read from the
   * stored row at height `h` when there is one, else hashed up from the stored row below it. With
   * `fromBelow`, a stored row at `h` itself is not used (integration computes it).
   */
  async subtree(h: number, i: number, fromBelow: boolean): Promise<Buffer> {
    let base = h - (h % TILE_HEIGHT);
    if (fromBelow && base === h) base -= TILE_HEIGHT;
    const span = 2 ** (h - base);
    let level = await this.stored(base, i * span, (i + 1) * span);
    while (level.length > 1) {
      const up: Buffer[] = [];
      for (let j = 0; j < level.length; j += 2) up.push(merkleNodeHash(level[j]!, level[j + 1]!));
      level = up;
    }
    return level[0]!;
  }

  /** Stored hashes at `height` with indexes `[from, to)`, through the tile cache. */
  private async stored(height: number, from: number, to: number): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (let t = Math.floor(from / TILE_WIDTH); t * TILE_WIDTH < to; t++) {
      const tile = await this.tile(height, t);
      const start = Math.max(from, t * TILE_WIDTH) - t * TILE_WIDTH;
      const end = Math.min(to, (t + 1) * TILE_WIDTH) - t * TILE_WIDTH;
      for (let j = start; j < end; j++) {
        const h = tile[j];
        if (h === undefined) throw missing(height, t * TILE_WIDTH + j, this.size);
        out.push(h);
      }
    }
    return out;
  }

  private async tile(height: number, t: number): Promise<Buffer[]> {
    const key = `${height}/${t}`;
    const cached = this.tiles.get(key);
    if (cached) return cached;
    // Only hashes of complete subtrees within this tree size belong to it.
    const available = Math.floor(this.size / 2 ** height);
    const from = t * TILE_WIDTH;
    const to = Math.min((t + 1) * TILE_WIDTH, available);
    const rows =
      height === 0
        ? await this.store.auditLeafHashes(from, to)
        : await this.store.auditNodes(height, from, to);
    const tile: Buffer[] = [];
    for (const r of rows) {
      if (r.index !== from + tile.length) throw missing(height, from + tile.length, this.size);
      tile.push(Buffer.from(r.hash, 'hex'));
    }
    this.tiles.set(key, tile);
    return tile;
  }
}

function missing(height: number, index: number, size: number): WaybillError {
  return new WaybillError(
    'ERR_WAYBILL_LOG_TAMPERED',
    height === 0
      ? `the audit log has no entry ${index}, but holds ${size}: entries were deleted; run \`waybill audit verify\``
      : `the audit log's stored hash at height ${height}, index ${index} is missing; run \`waybill audit verify\``,
  );
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
