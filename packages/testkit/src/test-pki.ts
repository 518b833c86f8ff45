import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, type TempDir } from './temp-dir.js';

/** Whether Debian's `openssl` command is here (the TLS tests skip loudly without it). */
export const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

function openssl(cwd: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** A certificate issued by `ca` for a server (127.0.0.1 and localhost) or a client. */
async function issue(dir: string, ca: string, name: string, use: 'serverAuth' | 'clientAuth'): Promise<void> {
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  ]);
  await writeFile(
    join(dir, `${name}.ext`),
    `basicConstraints=CA:FALSE\nextendedKeyUsage=${use}\n${use === 'serverAuth' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' : ''}`,
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
  ]);
}

/** A throwaway PKI: files `ca.*`, `server.*`, `client.*` from the CA, and `rogue-client.*` from another CA. */
export interface TestPki {
  readonly dir: TempDir;
  readonly file: (name: string) => string;
  readonly read: (name: string) => Promise<Buffer>;
}

export async function makeTestPki(prefix = 'waybill-pki-'): Promise<TestPki> {
  const dir = await tempDir(prefix);
  makeCa(dir.path, 'ca');
  makeCa(dir.path, 'rogue-ca');
  await issue(dir.path, 'ca', 'server', 'serverAuth');
  await issue(dir.path, 'ca', 'client', 'clientAuth');
  await issue(dir.path, 'rogue-ca', 'rogue-client', 'clientAuth');
  const file = (name: string) => join(dir.path, name);
  return { dir, file, read: (name) => readFile(file(name)) };
}
