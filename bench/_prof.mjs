import { openPostgresStore } from '@agentd/store-postgres';
import pg from 'pg';
const url='postgres://postgres@127.0.0.1:5432/test';
const schema='bench_prof_'+Math.random().toString(36).slice(2,8);
const store = await openPostgresStore({ url, schema, pool: { max: 10 } });
const t = (label, t0) => console.log(label, (performance.now()-t0).toFixed(2), 'ms');
const batch = Array.from({length:1000}, (_, i)=>({input:{i}, agent:'noop'}));
for (let r=0;r<5;r++){ const t0=performance.now(); await store.tasks.enqueueMany(batch, Date.now()); t('enqueueMany 1000', t0); }
// raw pieces
const pool = store.handle.pool;
for (let r=0;r<3;r++){ let t0=performance.now(); for(let i=0;i<100;i++) await pool.query('select 1'); t('100 x select 1', t0);
 t0=performance.now(); for(let i=0;i<100;i++) await pool.query('begin; commit'); t('100 x begin;commit (no write)', t0); }
// claim + complete sequential
const owner='prof:1';
for (let r=0;r<3;r++){ let t0=performance.now(); let [task] = await store.tasks.claim({owner, leaseMs:60000, now:Date.now()}); t('claim one', t0);
 for(let i=0;i<200;i++){ const res = await store.tasks.completeAndClaim(task.id, owner, null, {owner, leaseMs:60000, now:Date.now()}); task=res.claimed[0]; }
 t0=performance.now(); for(let i=0;i<200;i++){ const res = await store.tasks.completeAndClaim(task.id, owner, null, {owner, leaseMs:60000, now:Date.now()}); task=res.claimed[0]; } t('200 completeAndClaim seq', t0);
 t0=performance.now(); for(let i=0;i<200;i++){ const [x] = await store.tasks.claim({owner, leaseMs:60000, now:Date.now()}); await store.tasks.complete(x.id, owner, null, Date.now()); } t('200 claim+complete seq', t0);
}
const c = await pool.connect();
await c.query('begin');
const { rows } = await c.query(`explain (analyze, buffers) WITH picked AS (
        SELECT t.seq FROM "${schema}".tasks t
        WHERE t.status = 'pending' AND t.run_at <= $1
          AND (t.session_key IS NULL OR (
            NOT EXISTS (SELECT 1 FROM "${schema}".tasks r WHERE r.session_key = t.session_key AND r.status = 'running')
            AND NOT EXISTS (SELECT 1 FROM "${schema}".tasks o WHERE o.session_key = t.session_key AND o.status = 'pending' AND o.seq < t.seq AND (o.run_at <= $1 OR o.attempts > 0))))
        ORDER BY t.priority, t.run_at, t.seq LIMIT $2 FOR UPDATE OF t SKIP LOCKED)
      UPDATE "${schema}".tasks t SET status = 'running', attempts = t.attempts + 1, started_at = $1, lease_owner = 'x', lease_expires_at = 1
      FROM picked WHERE t.seq = picked.seq AND t.status = 'pending' RETURNING t.seq`, [Date.now(), 1]);
console.log(rows.map(r=>r['QUERY PLAN']).join('\n'));
await c.query('rollback'); c.release();
await store.close();
const cl=new pg.Client(url); await cl.connect(); await cl.query(`drop schema ${schema} cascade`); await cl.end();
