import { post } from '../api';
import { useData } from '../data';
import { ago, when } from '../format';
import { ActionButton, Badge, ErrorNote, Header } from '../ui';

interface RecentAlert {
  id: string;
  severity: string;
  source: string;
  title: string;
  message: string | null;
  at: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
}

/** Alerts: the newest first, open ones acknowledged from here. */
export function Alerts() {
  const { data, error, reload } = useData<{ alerts: RecentAlert[]; open: number }>('/alerts', [
    'alert',
  ]);
  return (
    <>
      <Header title="Alerts">{data ? <span class="muted">{data.open} open</span> : null}</Header>
      <ErrorNote error={error} />
      <table class="list">
        <thead>
          <tr>
            <th>When</th>
            <th>Severity</th>
            <th>Alert</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data?.alerts.map((a) => (
            <tr key={a.id} data-alert={a.id} class={a.acknowledgedAt ? 'acknowledged' : ''}>
              <td title={when(a.at)}>{ago(a.at)}</td>
              <td>
                <Badge status={a.severity} />
              </td>
              <td>
                <strong>{a.title}</strong>
                {a.message ? <div class="muted small">{a.message}</div> : null}
                <div class="muted small mono">{a.source}</div>
              </td>
              <td>
                {a.acknowledgedAt ? (
                  <span class="muted small acknowledged-by">
                    acknowledged {when(a.acknowledgedAt)}
                    {a.acknowledgedBy ? ` by ${a.acknowledgedBy}` : ''}
                  </span>
                ) : (
                  <ActionButton
                    label="Acknowledge"
                    run={() => post(`/alerts/${encodeURIComponent(a.id)}/acknowledge`).then(reload)}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.alerts.length === 0 ? <p class="muted">No alerts kept.</p> : null}
    </>
  );
}
