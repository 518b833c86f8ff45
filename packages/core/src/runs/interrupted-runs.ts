import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../ports/clock.js';
import type { ConnectionOpener } from '../ports/connection-opener.js';
import type { Destination } from '../ports/destination.js';
import type { Store } from '../ports/store.js';
import { resolveSecret } from '../secrets/connection-secret.js';
import type { SecretBox } from '../secrets/secret-box.js';
import type { AuditLog } from '../audit/audit-log.js';

export const MARKER_FILE = 'run.json';

/** Written into a run's staging directory: who runs it, and where it writes at the destination. */
export interface StagingMarker {
  readonly runId: string;
  readonly pid: number;
  readonly host: string;
  readonly destination: string;
  readonly path?: string;
  /** Set once the export was committed at the destination: nothing to roll back. */
  readonly released?: boolean;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface InterruptedRunsOptions {
  readonly store: Store;
  readonly box: SecretBox;
  readonly clock: Clock;
  readonly connections: ConnectionOpener;
  readonly stagingRoot: string;
  readonly workspace: string;
  readonly audit: AuditLog;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Rolls back the runs whose process died (killed, crashed, power cut) before they ended: their run is
 * marked `failed`, their files at the destination's temporary location and in staging are removed.
 * Runs of live processes — this one included — are left alone. Returns the ids rolled back.
 */
export async function recoverInterruptedRuns(o: InterruptedRunsOptions): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(o.stagingRoot);
  } catch {
    return [];
  }
  const recovered: string[] = [];
  for (const name of names) {
    const dir = join(o.stagingRoot, name);
    let marker: StagingMarker | null = null;
    try {
      marker = JSON.parse(await readFile(join(dir, MARKER_FILE), 'utf8')) as StagingMarker;
    } catch {
      marker = null;
    }
    if (marker && marker.host === hostname() && processAlive(marker.pid)) continue;
    if (!marker) {
      // A directory without a readable marker is a run that died while being created, or debris.
      const age = Date.now() - (await stat(dir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age < 60_000) continue;
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    const run = await o.store.getRun(o.workspace, marker.runId);
    const conn =
      marker.path !== undefined
        ? await o.store.getConnection(o.workspace, 'destination', marker.destination)
        : undefined;
    let destination: Destination | undefined;
    if (conn) {
      try {
        destination = await o.connections.openDestination(conn, resolveSecret(o.box, conn, o.env), {
          egress: await o.store.listEgressRules(o.workspace),
        });
      } catch {
        destination = undefined; // unreachable now; the staged data is removed regardless
      }
    }
    // The process may have died right after committing, before it could mark the run released: the
    // committed envelope, matching the sealed digest, says it was.
    const released =
      marker.released === true ||
      (run?.status === 'sealed' &&
        run.waybillDigest !== null &&
        marker.path !== undefined &&
        (await destination?.committedDigest?.(marker.path, 'waybill.intoto.jsonl').catch(() => null)) ===
          run.waybillDigest);
    if (released) {
      // Released before the process died: only the staging area is left to clean.
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    if (run?.status === 'sealed' && (destination?.committedDigest === undefined || !conn)) {
      // Sealed, and whether it was committed cannot be told now (destination unreachable, or it cannot
      // say): never fail it blind. The marker stays for a later recovery.
      continue;
    }
    if (run && run.status !== 'failed') {
      const at = o.clock.now().toISOString();
      const seq = (await o.store.runTransitions(run.id)).length + 1;
      const message = `interrupted: the process running it (pid ${marker.pid}) ended before it finished; nothing was released`;
      await o.store.transaction(async (tx) => {
        const moved = await tx.updateRun(
          run.id,
          run.status,
          {
            status: 'failed',
            updatedAt: at,
            errorCode: 'ERR_WAYBILL_RUN_FAILED',
            errorMessage: message,
            location: null,
          },
          { runId: run.id, seq, status: 'failed', at, detail: `ERR_WAYBILL_RUN_FAILED: ${message}` },
        );
        // Another process recovered it first: its entry is logged already.
        if (!moved) return;
        await o.audit.append(tx, {
          type: 'run.failed',
          actor: 'system',
          workspace: run.workspace,
          subjects: { run: run.id, definition: run.definitionName },
          details: { code: 'ERR_WAYBILL_RUN_FAILED', message, from: run.status, recovered: true },
        });
      });
    }
    if (marker.path !== undefined && destination) {
      // Best effort: the destination may be unreachable now; the staged data is removed regardless.
      await destination.discard?.(marker.path, { runId: marker.runId }).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
    recovered.push(marker.runId);
  }
  return recovered;
}
