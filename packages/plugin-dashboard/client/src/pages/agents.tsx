import { useData } from '../data';
import { ago, duration, when } from '../format';
import { href } from '../router';
import { Badge, ErrorNote, Facts, Header } from '../ui';

interface Failure {
  taskId: string;
  agent: string;
  class: string;
  action: string;
  message: string;
  at: number;
  durationMs: number;
}

interface AgentRow {
  name: string;
  default: boolean;
  chain: string[];
  circuit: 'closed' | 'open' | 'half-open';
  reopensAt: number | null;
  failures: Failure[];
  failureClasses: Record<string, number>;
}

interface Spend {
  day: string;
  dayUsd: number;
  month: string;
  monthUsd: number;
  dailyCapUsd?: number;
  monthlyCapUsd?: number;
}

interface AgentsData {
  failover: boolean;
  agents: AgentRow[];
  budgets: Spend | null;
  failures: Failure[];
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const ofCap = (spent: number, cap: number | undefined) =>
  cap === undefined ? `${usd(spent)} (no cap)` : `${usd(spent)} of ${usd(cap)}`;

/** Agents: failover chains, circuit states, recent failures by class, and the spend. */
export function Agents() {
  const { data, error } = useData<AgentsData>('/agents', ['circuit', 'task', 'alert']);
  return (
    <>
      <Header title="Agents" />
      <ErrorNote error={error} />
      {data && !data.failover ? (
        <p class="muted">This host has no failover policy: no chains, circuits or budgets.</p>
      ) : null}
      <table class="list">
        <thead>
          <tr>
            <th>Agent</th>
            <th>Failover chain</th>
            <th>Circuit</th>
            <th>Recent failures</th>
          </tr>
        </thead>
        <tbody>
          {data?.agents.map((a) => (
            <tr key={a.name} data-agent={a.name}>
              <td class="mono">
                {a.name}
                {a.default ? <span class="muted small"> (default)</span> : null}
              </td>
              <td class="mono chain">{a.chain.join(' → ')}</td>
              <td>
                <Badge status={a.circuit} />
                {a.reopensAt ? <div class="muted small">tried again {ago(a.reopensAt)}</div> : null}
              </td>
              <td class="classes">
                {Object.entries(a.failureClasses).map(([cls, n]) => (
                  <span key={cls} class="chip" data-class={cls}>
                    {cls} × {n}
                  </span>
                ))}
                {a.failures.length === 0 ? <span class="muted">none</span> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data?.budgets ? (
        <section class="card budgets">
          <h2>Budgets</h2>
          <Facts
            rows={[
              [`Today (${data.budgets.day})`, ofCap(data.budgets.dayUsd, data.budgets.dailyCapUsd)],
              [
                `This month (${data.budgets.month})`,
                ofCap(data.budgets.monthUsd, data.budgets.monthlyCapUsd),
              ],
            ]}
          />
        </section>
      ) : null}
      <h2>Recent failed attempts</h2>
      <p class="muted small">The newest first, since the dashboard started.</p>
      <table class="list">
        <thead>
          <tr>
            <th>When</th>
            <th>Agent</th>
            <th>Class</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {data?.failures.map((f) => (
            <tr key={`${f.taskId}:${f.at}:${f.agent}`} data-failure={f.taskId}>
              <td title={when(f.at)}>{ago(f.at)}</td>
              <td class="mono">{f.agent}</td>
              <td>
                <Badge status={f.class} /> <span class="muted small">{f.action}</span>
              </td>
              <td>
                <a href={href(['tasks', f.taskId])}>{f.message}</a>
                <div class="muted small">after {duration(f.durationMs)}</div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.failures.length === 0 ? <p class="muted">No failed attempts.</p> : null}
    </>
  );
}
