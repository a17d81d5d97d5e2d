// One free-port helper for every test: the one beside the CLI commands' test project.
export { freePort } from '../../packages/core/src/cli/test-project.js';
