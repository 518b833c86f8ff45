import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { keyIdForPublicKey, pae, parseEnvelope, signEnvelope, verifyEnvelope } from '../src/index.js';
import { sharedTestdata } from './support/repo-root.js';

interface PaeVector {
  payloadType: string;
  payload: string;
  pae: string;
}

// secure-systems-lab/dsse protocol.md, via ../shared/testdata/signed-note.json.
const vectors = (
  JSON.parse(readFileSync(sharedTestdata('signed-note.json'), 'utf8')) as { dssePae: PaeVector[] }
).dssePae;

describe('DSSE PAE', () => {
  it('matches the DSSE protocol.md example', () => {
    assert.ok(vectors.length > 0);
    for (const v of vectors) assert.equal(pae(v.payloadType, Buffer.from(v.payload)).toString(), v.pae);
  });

  it('counts bytes, not characters', () => {
    assert.equal(pae('t/é', Buffer.from('ü')).toString(), 'DSSEv1 4 t/é 2 ü');
    assert.equal(pae('', new Uint8Array()).toString(), 'DSSEv1 0  0 ');
  });
});

describe('DSSE envelope', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const keyId = keyIdForPublicKey(publicKey);
  const payload = Buffer.from('{"hello":"world"}');

  it('key id is the first 32 hex of SHA-256 over the SPKI DER', () => {
    const der = publicKey.export({ format: 'der', type: 'spki' });
    assert.equal(keyId, createHash('sha256').update(der).digest('hex').slice(0, 32));
    assert.match(keyId, /^[0-9a-f]{32}$/);
    assert.equal(keyIdForPublicKey(privateKey), keyId);
    assert.throws(() => keyIdForPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), {
      code: 'ERR_WAYBILL_INVALID_INPUT',
    });
  });

  it('signs and verifies with a map or a list of keys', () => {
    const env = signEnvelope('application/vnd.in-toto+json', payload, { keyId, privateKey });
    assert.deepEqual(
      env.signatures.map((s) => s.keyid),
      [keyId],
    );
    const viaMap = verifyEnvelope(env, new Map([[keyId, publicKey]]));
    assert.deepEqual(viaMap.payload, payload);
    assert.deepEqual(viaMap.keyIds, [keyId]);
    assert.equal(viaMap.payloadType, 'application/vnd.in-toto+json');
    assert.deepEqual(verifyEnvelope(JSON.stringify(env), [publicKey]).keyIds, [keyId]);
  });

  it('payload-type-swap-is-detected: the signature covers the payload type through PAE', () => {
    const env = signEnvelope('application/vnd.in-toto+json', payload, { privateKey });
    assert.throws(() => verifyEnvelope({ ...env, payloadType: 'text/plain' }, [publicKey]), {
      code: 'ERR_WAYBILL_SIGNATURE_INVALID',
    });
  });

  it('payload-tampering-is-detected', () => {
    const env = signEnvelope('t', payload, { privateKey });
    const forged = { ...env, payload: Buffer.from('{"hello":"mallory"}').toString('base64') };
    assert.throws(() => verifyEnvelope(forged, [publicKey]), { code: 'ERR_WAYBILL_SIGNATURE_INVALID' });
  });

  it('signature-by-unknown-key-is-rejected', () => {
    const other = generateKeyPairSync('ed25519');
    const env = signEnvelope('t', payload, { privateKey: other.privateKey });
    assert.throws(() => verifyEnvelope(env, [publicKey]), { code: 'ERR_WAYBILL_UNKNOWN_KEY' });
    // A signature that claims a trusted key id but is by another key is a bad signature, not an unknown one.
    const claimed = signEnvelope('t', payload, { keyId, privateKey: other.privateKey });
    assert.throws(() => verifyEnvelope(claimed, [publicKey]), { code: 'ERR_WAYBILL_SIGNATURE_INVALID' });
    assert.throws(() => verifyEnvelope(env, []), { code: 'ERR_WAYBILL_UNKNOWN_KEY' });
  });

  it('ignores unknown signers when a trusted one verifies, and tries all keys without a keyid', () => {
    const other = generateKeyPairSync('ed25519');
    const env = signEnvelope('t', payload, [{ privateKey: other.privateKey }, { privateKey }]);
    assert.deepEqual(verifyEnvelope(env, [publicKey]).keyIds, [keyId]);
    const anonymous = { ...env, signatures: env.signatures.map((s) => ({ sig: s.sig })) };
    assert.deepEqual(verifyEnvelope(anonymous, [publicKey]).keyIds, [keyId]);
  });

  it('accepts URL-safe and unpadded base64 as DSSE allows', () => {
    const env = signEnvelope('t', Buffer.from([0xfb, 0xff]), { privateKey });
    const urlSafe = {
      ...env,
      payload: Buffer.from([0xfb, 0xff]).toString('base64url'),
      signatures: env.signatures.map((s) => ({
        ...s,
        sig: Buffer.from(s.sig, 'base64').toString('base64url'),
      })),
    };
    assert.deepEqual(verifyEnvelope(urlSafe, [publicKey]).payload, Buffer.from([0xfb, 0xff]));
  });

  it('rejects malformed envelopes with ERR_WAYBILL_ENVELOPE_MALFORMED and a reason', () => {
    const good = signEnvelope('t', payload, { keyId, privateKey });
    const sig = good.signatures[0]!.sig;
    const cases: [unknown, RegExp][] = [
      ['not json', /not valid JSON/],
      ['[]', /JSON object/],
      [{ ...good, extra: 1 }, /unknown field "extra"/],
      [{ payloadType: 't', signatures: good.signatures }, /"payload"/],
      [{ ...good, payload: 'a b' }, /not valid base64/],
      [{ ...good, payload: 'QQ=x' }, /not valid base64/],
      // Non-canonical: trailing bits set in the last character decode to the same bytes.
      [{ ...good, payload: 'QR==' }, /not valid base64/],
      [{ ...good, payloadType: '' }, /payloadType/],
      [{ ...good, signatures: [] }, /non-empty array/],
      [{ ...good, signatures: [{ keyid: keyId }] }, /needs a base64 "sig"/],
      [{ ...good, signatures: [{ keyid: 5, sig }] }, /"keyid" must be a string/],
      [{ ...good, signatures: [{ keyid: keyId, sig, cert: 'x' }] }, /unknown field "cert"/],
      [{ ...good, signatures: ['x'] }, /must be a JSON object/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => parseEnvelope(input),
        { code: 'ERR_WAYBILL_ENVELOPE_MALFORMED', message },
        JSON.stringify(input),
      );
      assert.throws(() => verifyEnvelope(input as never, [publicKey]), {
        code: 'ERR_WAYBILL_ENVELOPE_MALFORMED',
      });
    }
  });
});
