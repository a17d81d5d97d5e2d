import { openPostgresStore } from '@agentd/store-postgres';
import pg from 'pg';
const url='postgres://postgres@127.0.0.1:5432/test';
const schema='bench_prof_'+Math.random().toString(36).slice(2,8);
const store = await openPostgresStore({ url, schema, pool: { max: 10 } });
const t = (label, t0) => console.log(label, (performance.now()-t0).toFixed(2), 'ms');
const batch = Array.from({length:1000}, (_, i)=>({input:{i}, agent:'noop'}));
for (let r=0;r<20;r++){ await store.tasks.enqueueMany(batch, Date.now()); }
const pool = store.handle.pool;
const owner='prof:1';
const claimSql = (lim)=>`WITH picked AS (
        SELECT t.seq FROM "${schema}".tasks t
        WHERE t.status = 'pending' AND t.run_at <= $1
          AND (t.session_key IS NULL OR (
            NOT EXISTS (SELECT 1 FROM "${schema}".tasks r WHERE r.session_key = t.session_key AND r.status = 'running')
            AND NOT EXISTS (SELECT 1 FROM "${schema}".tasks o WHERE o.session_key = t.session_key AND o.status = 'pending' AND o.seq < t.seq AND (o.run_at <= $1 OR o.attempts > 0))))
        ORDER BY t.priority, t.run_at, t.seq LIMIT $2 FOR UPDATE OF t SKIP LOCKED)
      UPDATE "${schema}".tasks t SET status = 'running', attempts = t.attempts + 1, started_at = $1, lease_owner = 'x', lease_expires_at = 1
      FROM picked WHERE t.seq = picked.seq AND t.status = 'pending' RETURNING t.seq`;
async function timeClaims(label){
  const c = await pool.connect();
  let t0=performance.now();
  for(let i=0;i<50;i++){ await c.query('begin'); await c.query(claimSql(), [Date.now(), 1]); await c.query('rollback'); }
  t(label+': 50 x (begin, claim, rollback)', t0);
  t0=performance.now();
  for(let i=0;i<50;i++){ await c.query('begin'); await c.query('select 1'); await c.query('rollback'); }
  t(label+': 50 x (begin, select 1, rollback)', t0);
  t0=performance.now();
  for(let i=0;i<50;i++){ await c.query('begin'); await c.query(`update "${schema}".tasks set attempts=attempts where seq=$1`, [i+1]); await c.query('commit'); }
  t(label+': 50 x (begin, update 1 row, commit)', t0);
  c.release();
}
await timeClaims('fresh');
await pool.query(`analyze "${schema}".tasks`);
await timeClaims('analyzed');
const { rows } = await pool.query(`explain ${claimSql()}`, [Date.now(), 1]);
console.log(rows.map(r=>r['QUERY PLAN']).join('\n'));
await store.close();
const cl=new pg.Client(url); await cl.connect(); await cl.query(`drop schema ${schema} cascade`); await cl.end();
