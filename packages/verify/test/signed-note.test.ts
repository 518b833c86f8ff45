// Known answers from ../shared/testdata/signed-note.json: the C2SP signed-note.md example and the
// golang.org/x/mod/sumdb/note PeterNeumann key, whose Ed25519 signature is deterministic (RFC 8032).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  noteKeyId,
  noteVerifierFor,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifyNote,
  vkeyFor,
} from '../src/index.js';
import { sharedTestdata } from './support/repo-root.js';

interface NoteVector {
  source: string;
  skey?: string;
  vkey: string;
  text: string;
  signatureLine: string;
  valid: boolean;
  deterministic?: boolean;
}

const notes = (
  JSON.parse(readFileSync(sharedTestdata('signed-note.json'), 'utf8')) as { notes: NoteVector[] }
).notes;
const noteOf = (v: NoteVector) => `${v.text}\n${v.signatureLine}\n`;

describe('signed notes (c2sp.org/signed-note)', () => {
  it('has both known-answer notes', () => {
    assert.equal(notes.length, 2);
  });

  for (const v of notes) {
    it(`verifies: ${v.source}`, () => {
      const verifier = parseVerifierKey(v.vkey);
      const result = verifyNote(noteOf(v), [verifier]);
      assert.equal(v.valid, true);
      assert.equal(result.text, v.text);
      assert.deepEqual(result.verifiedBy, [{ name: verifier.name, keyId: verifier.keyId }]);
      // vkey string accepted directly, and re-encoding the key gives the same vkey.
      assert.equal(verifyNote(noteOf(v), [v.vkey]).text, v.text);
      assert.equal(vkeyFor(verifier.name, verifier.publicKey), v.vkey);
      assert.equal(noteKeyId(verifier.name, verifier.publicKey), verifier.keyId);
    });

    it(`flipped-byte-in-note-is-detected: ${v.source}`, () => {
      const bytes = Buffer.from(noteOf(v));
      for (let i = 0; i < bytes.length; i++) {
        const copy = Buffer.from(bytes);
        copy[i]! ^= 0x01;
        assert.throws(
          () => verifyNote(copy, [v.vkey]),
          (err: { code?: string }) =>
            ['ERR_WAYBILL_NOTE_INVALID', 'ERR_WAYBILL_SIGNATURE_INVALID', 'ERR_WAYBILL_UNKNOWN_KEY'].includes(
              err.code ?? '',
            ),
          `flip at byte ${i}`,
        );
      }
    });
  }

  it('reproduces the deterministic PeterNeumann signature from its skey', () => {
    const v = notes.find((n) => n.deterministic)!;
    const signer = parseSignerKey(v.skey!);
    assert.equal(signer.name, 'PeterNeumann');
    assert.equal(vkeyFor(signer.name, signer.publicKey), v.vkey);
    assert.equal(signNote(v.text, signer), noteOf(v));
  });

  it('signs with several keys and ignores signatures from unknown keys', () => {
    const a = generateKeyPairSync('ed25519');
    const b = generateKeyPairSync('ed25519');
    const note = signNote('hello\n\nworld\n', [
      { name: 'a.example/log', privateKey: a.privateKey },
      { name: 'b.example/witness', privateKey: b.privateKey },
    ]);
    const result = verifyNote(note, [noteVerifierFor('b.example/witness', b.publicKey)]);
    assert.equal(result.text, 'hello\n\nworld\n');
    assert.deepEqual(
      result.verifiedBy.map((s) => s.name),
      ['b.example/witness'],
    );
    // Same name, different key: unknown, so ignored; no trusted signature left.
    assert.throws(() => verifyNote(note, [noteVerifierFor('a.example/log', b.publicKey)]), {
      code: 'ERR_WAYBILL_UNKNOWN_KEY',
    });
    assert.throws(() => verifyNote(note, []), { code: 'ERR_WAYBILL_UNKNOWN_KEY' });
  });

  it('rejects a note whose trusted signature line is duplicated', () => {
    const k = generateKeyPairSync('ed25519');
    const note = signNote('x\n', { name: 'k', privateKey: k.privateKey });
    const line = note.slice(note.indexOf('\u2014'));
    assert.throws(() => verifyNote(note + line, [vkeyFor('k', k.publicKey)]), {
      code: 'ERR_WAYBILL_NOTE_INVALID',
    });
  });

  it('rejects malformed notes', () => {
    const v = notes[0]!;
    const sig = v.signatureLine;
    const cases: [string, RegExp][] = [
      [`${v.text}\n${sig}`, /does not end with a newline/],
      [`${v.text}${sig}\n`, /no blank line/],
      [`${v.text}\n`, /no blank line|no signature lines/],
      [`${v.text}\n\n`, /no signature lines/],
      [`${v.text}\n${sig.replace('\u2014', '-')}\n`, /em dash/],
      [`${v.text}\n${sig.replace(' ', '  ')}\n`, /invalid key name|not "— name signature"|signature line/],
      [`${v.text}\n\u2014 example.com/foo AAAA\n`, /not base64 of a key id/],
      [`${v.text}\n\u2014 example.com/foo Uw2Q!kn8\n`, /not base64/],
      [`tab\there\n\n${sig}\n`, /control character/],
      [`cr\r\n\n${sig}\n`, /control character/],
    ];
    for (const [note, message] of cases) {
      assert.throws(
        () => parseNote(note),
        { code: 'ERR_WAYBILL_NOTE_INVALID', message },
        JSON.stringify(note),
      );
    }
    assert.throws(() => parseNote(Buffer.from([0xff, 0x0a, 0x0a])), /UTF-8/);
    assert.throws(
      () => signNote('no newline', { name: 'k', privateKey: generateKeyPairSync('ed25519').privateKey }),
      {
        code: 'ERR_WAYBILL_NOTE_INVALID',
      },
    );
  });

  it('rejects malformed or mismatched keys', () => {
    const v = notes[0]!;
    const [name, id, key] = v.vkey.split('+') as [string, string, string];
    assert.throws(() => parseVerifierKey(`${name}+${id}`), { code: 'ERR_WAYBILL_NOTE_INVALID' });
    assert.throws(() => parseVerifierKey(`${name}+00000000+${key}`), /does not match/);
    assert.throws(() => parseVerifierKey(`other+${id}+${key}`), /does not match/);
    assert.throws(() => parseVerifierKey(`${name}+${id.toUpperCase()}+${key}`), /8 lowercase hex/);
    assert.throws(() => parseVerifierKey(`${name}+${id}+${key.slice(0, -4)}`), /only Ed25519/);
    assert.throws(() => parseVerifierKey(`bad name+${id}+${key}`), /invalid/);
    assert.throws(() => parseSignerKey('PRIVATE+KEY+x+00000000'), { code: 'ERR_WAYBILL_NOTE_INVALID' });
    const skey = notes[1]!.skey!;
    assert.throws(() => parseSignerKey(skey.replace('c74f20a3', 'c74f20a4')), /does not match/);
    assert.throws(() => vkeyFor('has+plus', generateKeyPairSync('ed25519').publicKey), {
      code: 'ERR_WAYBILL_NOTE_INVALID',
    });
  });
});
