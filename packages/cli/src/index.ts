export { main, buildProgram, EXIT_OK, EXIT_REFUSED, EXIT_USAGE } from './main.js';
export { initHome, openHome, resolveHome, homeExists } from './home.js';
export type { HomeContext, HomeConfig } from './home.js';
export { seedCrm } from './demo/crm-seeder.js';
export { DEMO_DEFINITION } from './demo/demo-definition.js';
