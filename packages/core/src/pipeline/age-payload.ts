import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { WaybillError } from '@waybill/verify';

/** The age encryption a waybill records: to whom, the encrypted file, and the plaintext it holds. */
export interface PayloadEncryption {
  readonly format: 'age-encryption.org/v1';
  readonly recipients: readonly string[];
  /** The plaintext payload: name, size and SHA-256, so a recipient can check it after decrypting. */
  readonly plaintext: { readonly name: string; readonly bytes: number; readonly sha256: string };
}

const RECIPIENT = /^age1[0-9a-z]{20,4000}$/;

/** The age recipients set on a destination (`ageRecipients`), checked; [] when none. */
export function ageRecipientsOf(config: Readonly<Record<string, unknown>>): string[] {
  const list = config['ageRecipients'];
  if (list === undefined) return [];
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((r) => typeof r !== 'string' || !RECIPIENT.test(r))
  ) {
    throw new WaybillError(
      'ERR_WAYBILL_CONNECTION_INVALID',
      'destination setting "ageRecipients" must list age public keys (age1…)',
    );
  }
  return list as string[];
}

/**
 * Encrypts `from` to the recipients with age (X25519, or hybrid post-quantum `age1pq1…`), streaming,
 * into `to`; returns the ciphertext's SHA-256 and size.
 */
export async function encryptPayload(
  from: string,
  to: string,
  recipients: readonly string[],
): Promise<{ sha256: string; bytes: number }> {
  // Loaded here, when a destination asks for encryption: age and its post-quantum curves take time and
  // memory that every other export would pay for.
  const { Encrypter } = await import('age-encryption');
  const e = new Encrypter();
  for (const r of recipients) {
    try {
      e.addRecipient(r);
    } catch (err) {
      throw new WaybillError(
        'ERR_WAYBILL_CONNECTION_INVALID',
        `destination setting "ageRecipients": ${JSON.stringify(r.slice(0, 16) + '…')} is not an age recipient (${(err as Error).message})`,
        { cause: err },
      );
    }
  }
  const plain = Readable.toWeb(
    createReadStream(from, { highWaterMark: 1 << 16 }),
  ) as ReadableStream<Uint8Array>;
  const sealed = (await e.encrypt(plain)) as unknown as WebReadableStream<Uint8Array>;
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    Readable.fromWeb(sealed),
    async function* (source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        hash.update(chunk);
        bytes += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(to, { mode: 0o600 }),
  );
  return { sha256: hash.digest('hex'), bytes };
}
