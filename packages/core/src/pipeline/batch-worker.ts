import { parentPort, workerData } from 'node:worker_threads';
import { createBatchHandler } from './batch-handler.js';
import type { BatchTask, WorkerInit } from './batch-task.js';

// A worker thread of the export pipeline: decodes, filters, computes, transforms, encodes and hashes
// batches, so the main thread only reads and writes (STYLE.md §6; the core issue's performance notes).
// Messages queue on the port until the listener below is attached.
const port = parentPort!;
const handle = await createBatchHandler(workerData as WorkerInit);
port.on('message', (task: BatchTask) => {
  const { reply, transfer } = handle(task);
  port.postMessage(reply, transfer);
});
