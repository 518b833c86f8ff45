import { WaybillError } from '@waybill/verify';

/**
 * A run is a persisted state machine (ARCHITECTURE.md "The flow of one export"): each transition is
 * stored with its time before the next step starts. `failed` is terminal and reachable from any
 * non-terminal state.
 */
export const runStatuses = ['created', 'staged', 'validated', 'delivered', 'sealed', 'failed'] as const;
export type RunStatus = (typeof runStatuses)[number];

const next: Record<RunStatus, readonly RunStatus[]> = {
  created: ['staged', 'failed'],
  staged: ['validated', 'failed'],
  validated: ['delivered', 'failed'],
  delivered: ['sealed', 'failed'],
  sealed: [],
  failed: [],
};

export function isTerminal(status: RunStatus): boolean {
  return next[status].length === 0;
}

/** Throws unless `from → to` is a transition of the run state machine. */
export function assertTransition(runId: string, from: RunStatus, to: RunStatus): void {
  if (!next[from].includes(to)) {
    throw new WaybillError('ERR_WAYBILL_CONFLICT', `run ${runId} cannot go from ${from} to ${to}`);
  }
}
