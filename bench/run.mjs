#!/usr/bin/env node
// `npm run bench`: every benchmark in bench/, one after the other.
await import('./export-bench.mjs');
