#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

const serve = process.argv.slice(2).includes('serve');

// Before any other module loads (hence the dynamic imports below): a command's main thread keeps the
// young generation it starts with instead of growing it to 2 × 16 MiB while hundreds of modules load.
// V8 reads this flag whenever it would grow the space, so setting it now takes effect. A 1M-row export:
// peak RSS 240 -> 213 MiB, no slower (the core issue's memory target). The server keeps V8's default.
if (!serve) setFlagsFromString('--semi-space-growth-factor=1');

const { compileCedarForQuickStart, useCommandHeaps } = await import('@waybill/core');
const { main } = await import('../dist/src/main.js');

// A command makes a few policy decisions and exits: the policy engine is compiled for a quick start
// (less memory, less time). The server, which decides all day, keeps the optimizing compiler.
if (!serve) compileCedarForQuickStart();
// …and keeps lean heaps, worker threads' included: memory that does not grow with an export's rows
// (command-heaps.ts).
if (!serve) useCommandHeaps();

// `waybill … | head` closes stdout early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
