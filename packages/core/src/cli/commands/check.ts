import { relative } from 'node:path';
import { isToken } from '../../kernel/token.js';
import { loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';

/** `agentd check`: validates the config and prints the plugin start order. Exit code 0 when valid. */
export async function checkCommand(
  io: CliIO,
  options: { config?: string; cwd: string; envFile?: string },
): Promise<number> {
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
  });
  const byName = new Map(checked.resolved.plugins.map((p) => [p.plugin.name, p.plugin]));
  io.out(
    `✓ ${relative(options.cwd, checked.path) || checked.path} is valid (host "${checked.resolved.name}")`,
  );
  if (checked.envFile) {
    const { path, applied } = checked.envFile;
    // Names only: the values may be secrets.
    io.out(
      `  environment: ${applied.length} variable(s) from ${path}${applied.length ? ` (${applied.join(', ')})` : ''}`,
    );
  }
  if (checked.order.length === 0) {
    io.out('  no plugins configured');
    return 0;
  }
  io.out(`  plugins in start order (stop runs in reverse):`);
  checked.order.forEach((name, i) => {
    const deps = (byName.get(name)?.dependsOn ?? []).map((d) =>
      isToken(d) ? `service ${d.name}` : d,
    );
    io.out(
      `  ${String(i + 1).padStart(3)}. ${name}${deps.length ? `  (after ${deps.join(', ')})` : ''}`,
    );
  });
  return 0;
}
