import { parentPort, workerData } from 'node:worker_threads';
import { createBatchHandler, type BatchHandler } from './batch-handler.js';
import type { BatchTask, WorkerInit } from './batch-task.js';

// A worker thread of the export pipeline: decodes, filters, computes, transforms, encodes and hashes
// batches, so the main thread only reads and writes (STYLE.md §6; the core issue's performance notes).
// Messages queue on the port until the listener below is attached.
// A worker can be started before its export is planned (it loads its modules meanwhile): its
// `WorkerInit` then comes as the first message. Batches are handled in the order they arrive.
const port = parentPort!;
let ready: Promise<BatchHandler> | undefined = workerData
  ? createBatchHandler(workerData as WorkerInit)
  : undefined;
port.on('message', (message: BatchTask | { readonly init: WorkerInit }) => {
  if ('init' in message) {
    ready = createBatchHandler(message.init);
    return;
  }
  // A rejection (a plan that does not compile here) is unhandled, which fails the worker: the pool
  // reports it as the run's error.
  void ready!.then((handle) => {
    const { reply, transfer } = handle(message);
    port.postMessage(reply, transfer);
  });
});
