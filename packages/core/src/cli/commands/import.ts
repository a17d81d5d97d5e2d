import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AgentdError } from '../../kernel/errors.js';
import { errorMessage } from '../../kernel/timeout.js';
import { loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { withStore } from '../store-access.js';
import { parseTaskFile } from '../task-import.js';

/** `agentd import tasks.json`: enqueues the unfinished tasks of a flat JSON task file, once. */
export async function importCommand(
  io: CliIO,
  file: string,
  options: { config?: string; cwd: string },
): Promise<number> {
  const path = resolve(options.cwd, file);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new AgentdError('E_IMPORT', `cannot read ${file}: ${errorMessage(error)}`);
  }
  let parsed: ReturnType<typeof parseTaskFile>;
  try {
    parsed = parseTaskFile(data);
  } catch (error) {
    throw new AgentdError('E_IMPORT', `${file}: ${errorMessage(error)}`);
  }
  const checked = await loadCheckedConfig(options.cwd, options.config);
  const defaultAgent = checked.resolved.defaultAgent ?? checked.resolved.agents[0]?.name;
  return withStore(checked, async (store) => {
    const results = await store.tasks.enqueueMany(
      parsed.tasks.map((t) => (t.agent || !defaultAgent ? t : { ...t, agent: defaultAgent })),
      Date.now(),
    );
    const created = results.filter((r) => r.created).length;
    io.out(
      `imported ${created} task(s) from ${file}; ${results.length - created} already imported, ${parsed.skipped.length} skipped`,
    );
    for (const s of parsed.skipped) io.out(`  skipped entry ${s.index}: ${s.reason}`);
    return 0;
  });
}
