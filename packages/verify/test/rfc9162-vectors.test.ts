// Conformance vectors for RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), read at test time
// from ../shared/testdata/rfc9162 (the transparency-dev/merkle test data layout: 0-based indexes,
// base64 hashes, `wantErr` for the negative cases; see the LICENSE file beside them).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WaybillError, verifyConsistency, verifyInclusion } from '../src/index.js';
import { sharedTestdata } from './support/repo-root.js';

interface InclusionVector {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyVector {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const root = sharedTestdata('rfc9162');

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return jsonFiles(path);
      return name.endsWith('.json') ? [path] : [];
    });
}

const b64 = (s: string) => Buffer.from(s, 'base64');

function outcome(run: () => void): WaybillError | null {
  try {
    run();
    return null;
  } catch (err) {
    assert.ok(err instanceof WaybillError, `expected a WaybillError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_WAYBILL_PROOF_INVALID');
    assert.ok(err.message.length > 0);
    return err;
  }
}

const inclusion = jsonFiles(join(root, 'inclusion'));
const consistency = jsonFiles(join(root, 'consistency'));

describe('RFC 9162 conformance vectors', () => {
  it('finds all 196 vectors', () => {
    assert.equal(inclusion.length + consistency.length, 196);
  });

  describe('inclusion (§2.1.3.2)', () => {
    for (const file of inclusion) {
      const v = JSON.parse(readFileSync(file, 'utf8')) as InclusionVector;
      it(`${relative(root, file)}: ${v.desc}`, () => {
        const err = outcome(() =>
          verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), v.proof?.map(b64) ?? null, b64(v.root)),
        );
        assert.equal(
          err !== null,
          v.wantErr,
          err ? `unexpected failure: ${err.message}` : 'accepted a bad proof',
        );
        // The same vector through bigint arguments.
        const big = outcome(() =>
          verifyInclusion(
            BigInt(v.leafIdx),
            BigInt(v.treeSize),
            b64(v.leafHash),
            v.proof?.map(b64) ?? null,
            b64(v.root),
          ),
        );
        assert.equal(big !== null, v.wantErr);
      });
    }
  });

  describe('consistency (§2.1.4.2)', () => {
    for (const file of consistency) {
      const v = JSON.parse(readFileSync(file, 'utf8')) as ConsistencyVector;
      it(`${relative(root, file)}: ${v.desc}`, () => {
        const err = outcome(() =>
          verifyConsistency(v.size1, v.size2, v.proof?.map(b64) ?? null, b64(v.root1), b64(v.root2)),
        );
        assert.equal(
          err !== null,
          v.wantErr,
          err ? `unexpected failure: ${err.message}` : 'accepted a bad proof',
        );
        const big = outcome(() =>
          verifyConsistency(
            BigInt(v.size1),
            BigInt(v.size2),
            v.proof?.map(b64) ?? null,
            b64(v.root1),
            b64(v.root2),
          ),
        );
        assert.equal(big !== null, v.wantErr);
      });
    }
  });
});
