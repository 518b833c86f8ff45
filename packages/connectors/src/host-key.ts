import { createHash } from 'node:crypto';
import type { EgressRule } from '@waybill/core';

/** The OpenSSH fingerprint (`SHA256:<base64, unpadded>`) of an SSH public-key blob. */
export function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The fingerprint of the host key `host:port` presents (trust on first use, when asked for): the
 * handshake stops at the key, before any authentication. The egress allowlist applies. Loads the SSH
 * client only when called.
 */
export async function fetchHostKey(
  host: string,
  port: number,
  egress: readonly EgressRule[],
): Promise<string> {
  return (await import('./sftp-destination.js')).fetchHostKey(host, port, egress);
}
