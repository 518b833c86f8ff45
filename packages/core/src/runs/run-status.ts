import { WaybillError } from '@waybill/verify';

/**
 * A run is a persisted state machine (ARCHITECTURE.md "The flow of one export"): each transition is
 * stored with its time before the next step starts. `failed` is terminal and reachable from every
 * other state (from `sealed` only when releasing the sealed export fails).
 */
export const runStatuses = ['created', 'staged', 'validated', 'delivered', 'sealed', 'failed'] as const;
export type RunStatus = (typeof runStatuses)[number];

const next: Record<RunStatus, readonly RunStatus[]> = {
  created: ['staged', 'failed'],
  staged: ['validated', 'failed'],
  validated: ['delivered', 'failed'],
  delivered: ['sealed', 'failed'],
  // Sealed = the seal is in the audit log. The export is released (committed at the destination) right
  // after; if that fails, the run fails and the log says so after the seal.
  sealed: ['failed'],
  failed: [],
};

/** True for runs that will not move on by themselves: sealed (released or about to be) and failed. */
export function isTerminal(status: RunStatus): boolean {
  return status === 'sealed' || status === 'failed';
}

/** Throws unless `from → to` is a transition of the run state machine. */
export function assertTransition(runId: string, from: RunStatus, to: RunStatus): void {
  if (!next[from].includes(to)) {
    throw new WaybillError('ERR_WAYBILL_CONFLICT', `run ${runId} cannot go from ${from} to ${to}`);
  }
}
