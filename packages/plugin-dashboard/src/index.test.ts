// The package's default export is its plugin factory, which is how a JSON config loads it by name
// (`"plugins": ["@agentd/store-sqlite", "@agentd/plugin-webhook", "@agentd/plugin-dashboard"]`).
import { describe, expect, it } from 'vitest';
import dashboardFactory, { DASHBOARD_PLUGIN_NAME, dashboard } from './index.js';

describe('@agentd/plugin-dashboard default export', () => {
  it('is the dashboard() factory, with its default options', () => {
    expect(dashboardFactory).toBe(dashboard);
    const plugin = dashboardFactory();
    expect(plugin.name).toBe(DASHBOARD_PLUGIN_NAME);
    expect(plugin.name).toBe('dashboard');
  });
});
