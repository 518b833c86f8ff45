#!/usr/bin/env node
import { main } from '../dist/src/main.js';

// `waybill … | head` closes stdout early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
