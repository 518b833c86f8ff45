import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { WaybillError } from '@waybill/core';
import { parseVerifierKey, verifyWaybillDirectory } from '@waybill/verify';
import { homeExists, readLogVerifierKeys, readPublicKeys, resolveHome } from '../home.js';
import { printJson, println, usage } from '../output.js';
import { globals, type CommandContext } from './command-context.js';

export function registerVerifyCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  program
    .command('verify')
    .description('verify a delivered waybill directory (signature, digests, records, lineage, receipt)')
    .argument('<dir>', 'the export directory')
    .option('--key <file>', 'the waybill signing public key (PEM); default: the home keyring')
    .option('--record <n>', 'also prove that record N (0-based) is in the export, without the other rows')
    .option(
      '--log-key <vkey>',
      "the audit log's verifier key (signed-note vkey) to check receipt.tlog-proof; repeatable (old and new after a rotation); default: the home's",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .action(async (dir: string, opts: { key?: string; record?: string; logKey?: string[] }, cmd: Command) => {
      const g = globals(cmd);
      let record: number | undefined;
      if (opts.record !== undefined) {
        if (!/^\d+$/.test(opts.record))
          throw usage(`--record must be a record index (0, 1, 2…), got "${opts.record}"`);
        record = Number(opts.record);
      }
      for (const k of opts.logKey ?? []) {
        try {
          parseVerifierKey(k);
        } catch {
          throw usage('--log-key must be a signed-note verifier key: name+keyid+base64(0x01 ‖ public key)');
        }
      }
      const keys = await loadKeys(opts.key, g.home);
      // The log's keys: --log-key, else the home's (when there is one to read them from).
      const home = resolveHome(g.home, io.env);
      const logVerifiers =
        opts.logKey !== undefined
          ? opts.logKey
          : homeExists(home)
            ? await readLogVerifierKeys(home, io.env)
            : [];
      const result = await verifyWaybillDirectory(dir, {
        keys,
        ...(record !== undefined ? { record } : {}),
        ...(logVerifiers.length > 0 ? { logVerifiers } : {}),
      });
      if (g.json) printJson(io, result);
      else {
        if (result.valid) println(io, `valid: waybill of run ${result.runId ?? '?'} verified (${dir})`);
        else {
          println(io, `INVALID: ${dir}`);
          for (const e of result.errors) println(io, `  ${e.code}: ${e.message}`);
        }
        if (result.recordProof) println(io, `record proof: ${JSON.stringify(result.recordProof)}`);
        if (result.encryption?.status === 'verified')
          println(
            io,
            `the payload is age-encrypted; its decrypted plaintext ${result.encryption.plaintext} matches the signed digest`,
          );
        else if (result.encryption?.status === 'absent')
          println(
            io,
            `the payload is age-encrypted; the ciphertext was checked. Decrypt it beside (age -d -i KEY -o ${result.encryption.plaintext} ${result.encryption.plaintext}.age) and verify again to check the plaintext`,
          );
      }
      if (!result.valid) ctx.setExit(1);
    });

  async function loadKeys(keyFile: string | undefined, homeFlag: string | undefined): Promise<KeyObject[]> {
    if (keyFile) {
      let pem: string;
      try {
        pem = await readFile(keyFile, 'utf8');
      } catch {
        throw usage(`cannot read --key file ${keyFile}`);
      }
      let key: KeyObject;
      try {
        key = createPublicKey(pem);
      } catch {
        throw usage(`--key ${keyFile} is not a PEM public key`);
      }
      if (key.asymmetricKeyType !== 'ed25519') {
        throw usage(
          `--key ${keyFile} is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; waybills are signed with Ed25519`,
        );
      }
      return [key];
    }
    const home = resolveHome(homeFlag, io.env);
    if (!homeExists(home)) {
      throw new WaybillError(
        'ERR_WAYBILL_KEY_NOT_FOUND',
        `no --key given and no Waybill home at ${home} to take keys from`,
      );
    }
    return (await readPublicKeys(home, 'waybill-signing', io.env)).map((k) => k.publicKey);
  }
}
