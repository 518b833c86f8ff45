import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { tempDir, type TempDir } from './temp-dir.js';

/** A throwaway OpenSSH server on 127.0.0.1 for the current user, with a key pair to log in with. */
export interface TestSshd {
  readonly port: number;
  readonly user: string;
  /** The directory of the server's files; exports can be written under `root`. */
  readonly dir: TempDir;
  readonly root: string;
  /** The client's private key (OpenSSH format) and the server's host key fingerprint (SHA256:…). */
  readonly clientKey: string;
  readonly hostKeyFingerprint: string;
  stop(): Promise<void>;
}

const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));

/** Whether Debian's OpenSSH server is here (the SFTP tests skip loudly without it). */
export const hasSshd =
  SSHD !== undefined && spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;

function keygen(args: string[]): void {
  const r = spawnSync('ssh-keygen', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')} failed: ${r.stderr}`);
}

/** Starts sshd (`-D -e`, its own config, host key and authorized key); null when sshd is not installed. */
export async function startSshd(): Promise<TestSshd | null> {
  if (!SSHD || !hasSshd) return null;
  const dir = await tempDir('waybill-sshd-');
  const hostKey = join(dir.path, 'host_ed25519');
  const clientKey = join(dir.path, 'client_ed25519');
  keygen(['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  keygen(['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  await writeFile(join(dir.path, 'authorized_keys'), await readFile(`${clientKey}.pub`), { mode: 0o600 });
  const root = join(dir.path, 'exports');
  await mkdir(root);
  // Privilege separation wants this directory when sshd runs as root (as CI does).
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = join(dir.path, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir.path, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir.path, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
    ].join('\n') + '\n',
  );
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`sshd did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const fp = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`], { encoding: 'utf8' });
  const hostKeyFingerprint = /(SHA256:[A-Za-z0-9+/]+)/.exec(fp.stdout)![1]!;
  return {
    port,
    user: userInfo().username,
    dir,
    root,
    clientKey: await readFile(clientKey, 'utf8'),
    hostKeyFingerprint,
    async stop() {
      child.kill();
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      await dir.cleanup();
    },
  };
}
