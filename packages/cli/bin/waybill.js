#!/usr/bin/env node
import { compileCedarForQuickStart } from '@waybill/core';
import { main } from '../dist/src/main.js';

// A command makes a few policy decisions and exits: the policy engine is compiled for a quick start
// (less memory, less time). The server, which decides all day, keeps the optimizing compiler.
if (!process.argv.slice(2).includes('serve')) compileCedarForQuickStart();

// `waybill … | head` closes stdout early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
