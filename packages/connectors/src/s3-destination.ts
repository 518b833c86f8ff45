import { createHash } from 'node:crypto';
import { Agent as HttpsAgent } from 'node:https';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, ServerSideEncryption } from '@aws-sdk/client-s3';
import type * as S3Storage from '@aws-sdk/lib-storage';
import type * as SmithyHttp from '@smithy/node-http-handler';
import type { Destination, DestinationWrite, EgressRule } from '@waybill/core';
import { WaybillError } from '@waybill/verify';
import { egressRuleFor, guardedLookup } from './egress.js';

interface AwsModules {
  readonly sdk: typeof S3Sdk;
  readonly Upload: typeof S3Storage.Upload;
  readonly NodeHttpHandler: typeof SmithyHttp.NodeHttpHandler;
}
let awsModules: Promise<AwsModules> | undefined;

/**
 * The AWS SDK, loaded the first time an S3 destination is used: it is large (about 0.1 s and 15 MB to
 * load), and every other command of a process that never touches S3 would pay for it.
 */
function loadAws(): Promise<AwsModules> {
  awsModules ??= Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/lib-storage'),
    import('@smithy/node-http-handler'),
  ]).then(([sdk, storage, http]) => ({ sdk, Upload: storage.Upload, NodeHttpHandler: http.NodeHttpHandler }));
  return awsModules;
}

/** Settings of an S3-compatible destination. */
export interface S3DestinationConfig {
  readonly bucket: string;
  /** Key prefix every export goes under (no leading or trailing slash). */
  readonly prefix?: string;
  readonly region?: string;
  /** An S3-compatible endpoint (https), for a service other than AWS; path-style addressing then. */
  readonly endpoint?: string;
  /** Server-side encryption: `AES256` or `aws:kms` (with `kmsKeyId`). */
  readonly sse?: 'AES256' | 'aws:kms';
  readonly kmsKeyId?: string;
  /** PEM file of the CA of the endpoint's certificate, when not a public one. */
  readonly ca?: string;
}

export interface S3DestinationOptions {
  /** `ACCESS_KEY_ID:SECRET_ACCESS_KEY`; the SDK's default credential chain when absent. */
  readonly secret?: string;
  readonly egress: readonly EgressRule[];
}

const COMPLETE = '_COMPLETE';

/**
 * Delivers an export to an S3 bucket (or an S3-compatible service). Files go up under a temporary
 * prefix `<prefix>/.tmp-<runId>/` as the run writes them (multipart, streamed, via lib-storage); on
 * commit they are copied into place in the order written — payload first, the waybill after it — then a
 * completion marker `_COMPLETE` (the manifest: names, sizes, SHA-256) is written last, and the
 * temporary objects are deleted. Readers treat an export as complete only once the marker is there. A
 * failure deletes what the run wrote, temporary and final. Server-side encryption on request. The
 * endpoint's host must be on the egress allowlist, checked after DNS resolution.
 */
export function createS3Destination(config: S3DestinationConfig, o: S3DestinationOptions): Destination {
  const region = config.region ?? 'us-east-1';
  const endpoint = new URL(config.endpoint ?? `https://s3.${region}.amazonaws.com`);
  const base = (config.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const keyOf = (...parts: string[]) => [base, ...parts].filter((p) => p !== '').join('/');
  let client: { readonly c: S3Client; readonly m: AwsModules } | undefined;

  async function s3(): Promise<{ readonly c: S3Client; readonly m: AwsModules }> {
    if (client) return client;
    const m = await loadAws();
    // Virtual-hosted style names the bucket in the host: check that host, as the SDK will reach it.
    const host = config.endpoint ? endpoint : new URL(`https://${config.bucket}.s3.${region}.amazonaws.com`);
    const rule = egressRuleFor(host, o.egress);
    const ca = config.ca ? await readFile(config.ca) : undefined;
    const [accessKeyId, secretAccessKey] = o.secret?.split(':', 2) ?? [];
    const c = new m.sdk.S3Client({
      region,
      ...(config.endpoint ? { endpoint: endpoint.href, forcePathStyle: true } : {}),
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
      requestHandler: new m.NodeHttpHandler({
        httpsAgent: new HttpsAgent({
          lookup: guardedLookup(host.hostname, rule),
          ...(ca ? { ca } : {}),
          keepAlive: true,
        }),
      }),
      maxAttempts: 5,
    });
    client = { c, m };
    return client;
  }

  const sse = {
    ...(config.sse ? { ServerSideEncryption: config.sse as ServerSideEncryption } : {}),
    ...(config.kmsKeyId ? { SSEKMSKeyId: config.kmsKeyId } : {}),
  };

  async function remove(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const { c, m } = await s3();
    for (let i = 0; i < keys.length; i += 1000) {
      await c.send(
        new m.sdk.DeleteObjectsCommand({
          Bucket: config.bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
  }

  return {
    kind: 's3',
    async begin(path, { runId, signal }): Promise<DestinationWrite> {
      const { c, m } = await s3();
      const finalPrefix = keyOf(path);
      const tmpPrefix = keyOf(`.tmp-${runId}`);
      const exists = await c
        .send(
          new m.sdk.ListObjectsV2Command({ Bucket: config.bucket, Prefix: `${finalPrefix}/`, MaxKeys: 1 }),
          signal ? { abortSignal: signal } : {},
        )
        .catch((err: unknown) => {
          if (err instanceof WaybillError) throw err;
          const cause = (err as { cause?: unknown }).cause;
          if (cause instanceof WaybillError) throw cause;
          throw failed(`cannot reach s3://${config.bucket}/${finalPrefix}/ (${(err as Error).message})`);
        });
      if ((exists.KeyCount ?? 0) > 0) {
        throw new WaybillError(
          'ERR_WAYBILL_CONFLICT',
          `s3 destination: s3://${config.bucket}/${finalPrefix}/ holds objects already; nothing is overwritten`,
        );
      }
      const files: { name: string; bytes: number; sha256: string }[] = [];
      const written: string[] = [];
      return {
        location: `s3://${config.bucket}/${finalPrefix}/`,
        async writeFile(name, data): Promise<void> {
          const hash = createHash('sha256');
          let bytes = 0;
          const source = data instanceof Uint8Array ? [data] : data;
          const body = Readable.from(
            (async function* () {
              for await (const chunk of source) {
                hash.update(chunk);
                bytes += chunk.length;
                yield chunk;
              }
            })(),
          );
          const Key = `${tmpPrefix}/${name}`;
          written.push(Key);
          try {
            await new m.Upload({
              client: c,
              params: { Bucket: config.bucket, Key, Body: body, ...sse },
              ...(signal ? { abortController: abortOf(signal) } : {}),
            }).done();
          } catch (err) {
            throw failed(`uploading ${name} failed (${(err as Error).message})`);
          }
          files.push({ name, bytes, sha256: hash.digest('hex') });
        },
        async commit(): Promise<void> {
          const placed: string[] = [];
          try {
            for (const f of files) {
              const Key = `${finalPrefix}/${f.name}`;
              await c.send(
                new m.sdk.CopyObjectCommand({
                  Bucket: config.bucket,
                  Key,
                  CopySource: `${config.bucket}/${encodeURIComponent(`${tmpPrefix}/${f.name}`).replace(/%2F/g, '/')}`,
                  ...sse,
                }),
              );
              placed.push(Key);
            }
            const marker = `${finalPrefix}/${COMPLETE}`;
            await c.send(
              new m.sdk.PutObjectCommand({
                Bucket: config.bucket,
                Key: marker,
                Body: JSON.stringify({ runId, files }),
                ContentType: 'application/json',
                ...sse,
              }),
            );
            placed.push(marker);
          } catch (err) {
            await remove([...placed, ...written]).catch(() => undefined);
            throw failed(
              `committing s3://${config.bucket}/${finalPrefix}/ failed (${(err as Error).message}); what was written is removed`,
            );
          }
          await remove(written).catch(() => undefined);
        },
        async abort(): Promise<void> {
          await remove(written);
        },
      };
    },
    async discard(_path, { runId }): Promise<void> {
      const { c, m } = await s3();
      const listed = await c.send(
        new m.sdk.ListObjectsV2Command({ Bucket: config.bucket, Prefix: `${keyOf(`.tmp-${runId}`)}/` }),
      );
      await remove((listed.Contents ?? []).map((x) => x.Key!).filter(Boolean));
    },
    async committedDigest(path, name): Promise<string | null> {
      const { c, m } = await s3();
      const Key = keyOf(path, name);
      try {
        await c.send(new m.sdk.HeadObjectCommand({ Bucket: config.bucket, Key: keyOf(path, COMPLETE) }));
      } catch {
        return null;
      }
      const got = await c.send(new m.sdk.GetObjectCommand({ Bucket: config.bucket, Key }));
      const hash = createHash('sha256');
      for await (const chunk of got.Body as Readable) hash.update(chunk as Buffer);
      return hash.digest('hex');
    },
  };
}

function abortOf(signal: AbortSignal): AbortController {
  const c = new AbortController();
  if (signal.aborted) c.abort(signal.reason);
  else signal.addEventListener('abort', () => c.abort(signal.reason), { once: true });
  return c;
}

function failed(message: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_DESTINATION_FAILED', `s3 destination: ${message}`);
}
