import { defineConfig } from '@agentd/core';
import { greeter } from 'agentd-example-custom-plugin';

/**
 * The starter host. Run it with `npm start` from the repository root, or `npx agentd start` here.
 * Stop it with Ctrl-C (or SIGTERM): it drains work in flight and stops every plugin in reverse order.
 */
export default defineConfig({
  name: 'starter',
  plugins: [greeter({ greeting: 'Hello', heartbeatMs: 30_000 })],
});
