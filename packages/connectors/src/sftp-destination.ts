import { createHash } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { posix } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { Destination, DestinationWrite, EgressRule } from '@waybill/core';
import { WaybillError } from '@waybill/verify';
import type SftpClient from 'ssh2-sftp-client';
import { egressRuleFor, guardedLookup } from './egress.js';

/** ssh2 is loaded when an SFTP destination is first used, not by every process that imports connectors. */
async function loadSftpClient(): Promise<typeof SftpClient> {
  return (await import('ssh2-sftp-client')).default;
}

/** Settings of an SFTP destination. */
export interface SftpDestinationConfig {
  readonly host: string;
  readonly port?: number;
  readonly user: string;
  /** The remote directory exports go under (absolute, must exist). */
  readonly path: string;
  /** The server's pinned host key, as OpenSSH prints it: `SHA256:<base64>`. Required at run time. */
  readonly hostKey: string;
  /** Seconds to wait for the connection and the handshake (default 20). */
  readonly timeoutSeconds?: number;
}

export interface SftpDestinationOptions {
  /** The connection's secret: a password, or an OpenSSH/PEM private key. */
  readonly secret?: string;
  readonly egress: readonly EgressRule[];
}

/** The OpenSSH fingerprint (`SHA256:<base64, unpadded>`) of an SSH public-key blob. */
export function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Delivers an export over SFTP (ssh2-sftp-client): every file is written under a temporary directory
 * `<path>/.<final name>.tmp-<runId>` beside its final place, and `commit` renames that directory into
 * place at once; `abort` removes it. The server's host key must match the pinned fingerprint (a
 * mismatch is refused before any authentication), and the host must be on the egress allowlist — the
 * socket is opened by Waybill with the allowlist's DNS check, like every network destination.
 */
export function createSftpDestination(config: SftpDestinationConfig, o: SftpDestinationOptions): Destination {
  const port = config.port ?? 22;
  const root = config.path.replace(/\/+$/, '') || '/';
  const timeout = (config.timeoutSeconds ?? 20) * 1000;

  async function open(): Promise<SftpClient> {
    const url = new URL(`sftp://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`);
    const rule = egressRuleFor(url, o.egress);
    const sock: Socket = await new Promise((resolve, reject) => {
      const s = netConnect({ host: config.host, port, lookup: guardedLookup(url.hostname, rule), timeout });
      s.once('connect', () => resolve(s));
      s.once('timeout', () => {
        s.destroy();
        reject(failed(`${config.host}:${port} did not answer within ${timeout / 1000} s`));
      });
      s.once('error', (err) =>
        reject(
          err instanceof WaybillError ? err : failed(`cannot reach ${config.host}:${port} (${err.message})`),
        ),
      );
    });
    let seen: string | undefined;
    const client = new (await loadSftpClient())();
    const secret = o.secret;
    try {
      await client.connect({
        sock,
        username: config.user,
        readyTimeout: timeout,
        hostVerifier: (key: Buffer) => {
          seen = sshFingerprint(key);
          return seen === config.hostKey;
        },
        ...(secret === undefined
          ? {}
          : secret.includes('PRIVATE KEY-----')
            ? { privateKey: secret }
            : { password: secret }),
      });
    } catch (err) {
      sock.destroy();
      if (seen !== undefined && seen !== config.hostKey) {
        throw new WaybillError(
          'ERR_WAYBILL_DESTINATION_FAILED',
          `sftp destination: the host key of ${config.host}:${port} is ${seen}, not the pinned ${config.hostKey}; refusing to connect (if the server's key really changed, add the destination again with the new --host-key)`,
        );
      }
      throw failed(`cannot log in to ${config.host}:${port} as ${config.user} (${(err as Error).message})`);
    }
    return client;
  }

  const tmpOf = (path: string, runId: string) => {
    const final = posix.join(root, path);
    return { final, tmp: posix.join(posix.dirname(final), `.${posix.basename(final)}.tmp-${runId}`) };
  };

  return {
    kind: 'sftp',
    async begin(path, { runId }): Promise<DestinationWrite> {
      if (!RUN_ID.test(runId))
        throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'sftp destination: bad run id');
      const { final, tmp } = tmpOf(path, runId);
      const client = await open();
      try {
        if (await client.exists(final)) {
          throw new WaybillError(
            'ERR_WAYBILL_CONFLICT',
            `sftp destination: ${final} exists already; nothing is overwritten`,
          );
        }
        await client.mkdir(tmp, true);
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err instanceof WaybillError ? err : failed(`cannot prepare ${tmp} (${(err as Error).message})`);
      }
      let done = false;
      const close = async () => {
        if (done) return;
        done = true;
        await client.end().catch(() => undefined);
      };
      return {
        location: `sftp://${config.user}@${config.host}:${port}${final}`,
        async writeFile(name, data): Promise<void> {
          if (!/^[A-Za-z0-9._-]+$/.test(name))
            throw new WaybillError(
              'ERR_WAYBILL_INVALID_INPUT',
              `sftp destination: bad file name ${JSON.stringify(name)}`,
            );
          try {
            const input = data instanceof Uint8Array ? Buffer.from(data) : Readable.from(data);
            await client.put(input, posix.join(tmp, name));
          } catch (err) {
            throw failed(`writing ${name} failed (${(err as Error).message})`);
          }
        },
        async commit(): Promise<void> {
          try {
            await client.rename(tmp, final);
          } catch (err) {
            await client.rmdir(tmp, true).catch(() => undefined);
            throw failed(`cannot move the export into place at ${final} (${(err as Error).message})`);
          } finally {
            await close();
          }
        },
        async abort(): Promise<void> {
          try {
            await client.rmdir(tmp, true).catch(() => undefined);
          } finally {
            await close();
          }
        },
      };
    },
    async discard(path, { runId }): Promise<void> {
      const { tmp } = tmpOf(path, runId);
      const client = await open();
      try {
        if (await client.exists(tmp)) await client.rmdir(tmp, true);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async committedDigest(path, name): Promise<string | null> {
      const { final } = tmpOf(path, 'x');
      const client = await open();
      try {
        const file = posix.join(final, name);
        if ((await client.exists(file)) !== '-') return null;
        const hash = createHash('sha256');
        const sink = new Writable({
          write(chunk: Buffer, _e, cb) {
            hash.update(chunk);
            cb();
          },
        });
        await client.get(file, sink);
        return hash.digest('hex');
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/**
 * The fingerprint of the host key `host:port` presents (trust on first use, when asked for): the
 * handshake stops at the key, before any authentication. The egress allowlist applies.
 */
export async function fetchHostKey(
  host: string,
  port: number,
  egress: readonly EgressRule[],
): Promise<string> {
  const url = new URL(`sftp://${host.includes(':') ? `[${host}]` : host}:${port}`);
  const rule = egressRuleFor(url, egress);
  const sock: Socket = await new Promise((resolve, reject) => {
    const s = netConnect({ host, port, lookup: guardedLookup(url.hostname, rule), timeout: 20_000 });
    s.once('connect', () => resolve(s));
    s.once('timeout', () => {
      s.destroy();
      reject(failed(`${host}:${port} did not answer`));
    });
    s.once('error', (err) =>
      reject(err instanceof WaybillError ? err : failed(`cannot reach ${host}:${port} (${err.message})`)),
    );
  });
  let seen: string | undefined;
  const client = new (await loadSftpClient())();
  await client
    .connect({
      sock,
      username: 'waybill-host-key-probe',
      readyTimeout: 20_000,
      hostVerifier: (key: Buffer) => {
        seen = sshFingerprint(key);
        return false;
      },
    })
    .catch(() => undefined);
  sock.destroy();
  await client.end().catch(() => undefined);
  if (seen === undefined) throw failed(`${host}:${port} did not present an SSH host key`);
  return seen;
}

function failed(message: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_DESTINATION_FAILED', `sftp destination: ${message}`);
}
