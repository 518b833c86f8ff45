// Test helpers shared by Waybill's packages. Private: never published, never imported from src/.
export { startPostgres, findPostgresBinDir } from './postgres-cluster.js';
export type { PgCluster, StartPostgresOptions } from './postgres-cluster.js';
export { tempDir } from './temp-dir.js';
export type { TempDir } from './temp-dir.js';
export { repoRoot, sharedTestdata } from './repo-root.js';
export { hasOpenssl, makeTestPki } from './test-pki.js';
export type { TestPki } from './test-pki.js';
export { hasSshd, startSshd } from './sshd.js';
export type { TestSshd } from './sshd.js';
export { appsSkipReason, installedApp, setupNocodb, startDirectus, startNocodb } from './apps.js';
export type { AppName, NocodbSetup, TestApp } from './apps.js';
