import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RowBlockAssembler } from '../src/lib/row-block-assembler.js';

// Socket chunks end anywhere; blocks must hold whole rows only, stay near the target size, and
// together give back exactly the stream.
test('blocks hold whole rows whatever the chunk boundaries', () => {
  const rows = Array.from({ length: 5000 }, (_, i) => `${i}\tname ${i}\t${'x'.repeat(i % 97)}\n`);
  const stream = Buffer.from(rows.join(''));
  for (const seed of [1, 7, 31, 1000, 4096]) {
    const assembler = new RowBlockAssembler(8192);
    const blocks: { bytes: Uint8Array; rows: number }[] = [];
    let pos = 0;
    let n = seed;
    while (pos < stream.length) {
      n = (n * 1103515245 + 12345) % 2147483648;
      const len = 1 + (n % 3000);
      const b = assembler.push(Buffer.from(stream.subarray(pos, pos + len)));
      if (b) blocks.push(b);
      pos += len;
    }
    const last = assembler.finish();
    if (last) blocks.push(last);
    assert.equal(Buffer.concat(blocks.map((b) => b.bytes)).toString(), stream.toString());
    let count = 0;
    for (const b of blocks) {
      assert.equal(b.bytes[b.bytes.length - 1], 10, 'a block ends with a whole row');
      assert.equal(b.rows, Buffer.from(b.bytes).toString().split('\n').length - 1);
      assert.ok(b.bytes.length < 8192 + 3000 + 200, 'a block stays near the target');
      assert.equal(b.bytes.byteOffset, 0);
      assert.equal(b.bytes.byteLength, b.bytes.buffer.byteLength, 'a block owns its memory');
      count += b.rows;
    }
    assert.equal(count, rows.length);
  }
});

test('a stream that ends inside a row is refused', () => {
  const a = new RowBlockAssembler(10);
  a.push(Buffer.from('1\ta\n2\tb'));
  assert.throws(() => a.finish(), /inside a row/);
});
