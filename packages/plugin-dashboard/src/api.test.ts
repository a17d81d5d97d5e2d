import { request as httpRequest } from 'node:http';
import {
  createHost,
  HealthRegistryToken,
  SessionStoreToken,
  TaskQueueToken,
  TaskStoreToken,
} from '@agentd/core';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { describe, expect, it } from 'vitest';
import { ClientAssets } from './assets.js';
import { dashboard } from './index.js';
import { csrfOf, DASHBOARD_TOKEN, SEEDED_SECRET, startSeededHost } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-dashboard-api-');

/** The answers' fields these tests read (one shape for all, as loose as JSON). */
interface ApiBody {
  tasks: { id: string; status: string }[];
  next: string | null;
  counts: Record<string, number>;
  task: Record<string, unknown>;
  error?: { code: string };
}

/** A GET with a Host header of our choosing (fetch does not let one be set). */
function rawGet(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: { host } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

async function getJson(url: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/dashboard/api${path}`, { headers });
  return { status: response.status, body: (await response.json()) as ApiBody };
}

describe('the dashboard on loopback (no login)', () => {
  it('serves the page, its assets gzipped with a content policy, and tasks matching the store', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { url } = seeded;
    const redirect = await fetch(`${url}/dashboard`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/dashboard/');
    const page = await fetch(`${url}/dashboard/`, { headers: { 'accept-encoding': 'gzip' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${url}/dashboard/${script}`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${url}/dashboard/assets/nope.js`)).status).toBe(404);

    const all = await getJson(url, '/tasks');
    expect(all.status).toBe(200);
    const expectedIds = [
      seeded.reminder,
      seeded.pending,
      seeded.failed,
      ...[...seeded.completed].reverse(),
    ].map((t) => t.id);
    expect(all.body.tasks.map((t: { id: string }) => t.id)).toEqual(expectedIds);
    const counts = await seeded.host.resolve(TaskStoreToken).counts();
    expect(all.body.counts).toEqual(counts);
    expect(all.body.next).toBeNull();

    const failed = await getJson(url, '/tasks?status=failed');
    expect(failed.body.tasks).toMatchObject([
      { id: seeded.failed.id, status: 'failed', error: 'Error' },
    ]);
    const byAgent = await getJson(url, '/tasks?agent=broken');
    expect(byAgent.body.tasks.map((t: { id: string }) => t.id)).toEqual([seeded.failed.id]);
    const byText = await getJson(url, '/tasks?text=INVOICE');
    expect(byText.body.tasks.map((t: { id: string }) => t.id)).toEqual([seeded.completed[2]!.id]);
    const byId = await getJson(url, `/tasks?text=${seeded.pending.id}`);
    expect(byId.body.tasks.map((t: { id: string }) => t.id)).toEqual([seeded.pending.id]);

    // Keyset paging: pages of two walk every task once, newest first.
    const seen: string[] = [];
    let after = '';
    for (let i = 0; i < 6; i++) {
      const page = await getJson(url, `/tasks?limit=2${after ? `&after=${after}` : ''}`);
      seen.push(...page.body.tasks.map((t: { id: string }) => t.id));
      if (!page.body.next) break;
      after = page.body.next;
    }
    expect(seen).toEqual(expectedIds);

    const detail = await getJson(url, `/tasks/${seeded.failed.id}`);
    expect(detail.body.task).toMatchObject({
      id: seeded.failed.id,
      input: 'sync the CRM',
      error: { name: 'Error', message: 'the upstream API answered 502' },
      attempts: 1,
    });
    expect((await getJson(url, '/tasks/nope')).status).toBe(404);
  });

  it('masks secrets in everything it answers', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const id = seeded.completed[1]!.id;
    const response = await fetch(`${seeded.url}/dashboard/api/tasks/${id}`);
    const text = await response.text();
    expect(text).not.toContain(SEEDED_SECRET);
    expect(text).toContain('sk-proj-[redacted]');
    const stored = await seeded.host.resolve(TaskStoreToken).get(id);
    expect(JSON.stringify(stored?.input)).toContain(SEEDED_SECRET);
  });

  it("puts the first view's answers in the page, masked, for loopback host names only, never stored", async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { url } = seeded;
    // A health check whose output carries a secret (and an attempt to end the data block early).
    seeded.host.resolve(HealthRegistryToken).add({
      name: 'leaky',
      check: () => ({ status: 'pass', output: `key ${SEEDED_SECRET} </script><script>alert(1)` }),
    });
    const page = await fetch(`${url}/dashboard/`, { headers: { 'accept-encoding': 'gzip' } });
    expect(page.headers.get('cache-control')).toBe('no-store');
    // Inline script only by its hash (the page's deep-link script, src/assets.ts), never any.
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toMatch(/script-src 'self' 'sha256-[\w+/=]+';/);
    expect(policy).not.toContain('unsafe-inline');
    const html = await page.text();
    expect(html).not.toContain(SEEDED_SECRET);
    expect(html).not.toContain('</script><script>alert');
    const block = /<script type="application\/json" id="agentd-first-view">(.*?)<\/script>/s.exec(
      html,
    );
    expect(block).not.toBeNull();
    const first = JSON.parse(block![1]!) as Record<string, Record<string, unknown>>;
    expect(Object.keys(first).sort()).toEqual(['/alerts', '/events', '/me', '/overview']);
    // Where the page's live stream starts: the events published before its data was read.
    expect(first['/events']).toEqual({ since: expect.any(Number) });
    const me = await getJson(url, '/me');
    expect(first['/me']).toEqual(me.body);
    const overview = (await getJson(url, '/overview')).body as unknown as Record<string, unknown>;
    expect(first['/overview']!.tasks).toEqual(overview.tasks);
    const health = (o: Record<string, unknown>) => o.health as { checks: Record<string, unknown> };
    expect(health(first['/overview']!).checks.leaky).toEqual(health(overview).checks.leaky);
    expect(JSON.stringify(first['/overview']!.health)).toContain(
      'key sk-proj-[redacted] </script>',
    );
    expect(first['/alerts']).toEqual((await getJson(url, '/alerts')).body);
    // The assets are still the shared, cacheable files.
    expect(html).toMatch(/<script type="module" crossorigin src="\.\/assets\/index-[\w-]+\.js">/);

    // DNS rebinding: a page at another host name gets the page, but none of the data.
    const rebound = await rawGet(`${url}/dashboard/`, 'evil.example:8787');
    expect(rebound.status).toBe(200);
    expect(rebound.body).toContain('"authenticated":false');
    expect(rebound.body).not.toContain('/overview');
    expect(rebound.body).not.toContain('csrf');
  });

  it('refuses bad filters, huge pages and injection with 400, and finds text literally', async () => {
    const { url } = await startSeededHost(dbPath(), hosts);
    for (const q of [
      'limit=100000',
      'limit=0',
      'limit=-1',
      'limit=1e3',
      'limit=abc',
      'status=bogus',
      'status=failed,../../etc',
      `text=${'x'.repeat(201)}`,
      'text=%00abc',
      'agent=a%0Ab',
      'after=garbage',
      `after=${'s'.repeat(41)}`,
    ]) {
      const { status, body } = await getJson(url, `/tasks?${q}`);
      expect({ q, status, code: body.error?.code }).toEqual({
        q,
        status: 400,
        code: 'bad_request',
      });
    }
    for (const text of ["' OR 1=1 --", '%', '_', '"); DROP TABLE tasks; --', '\\', '*']) {
      const { status, body } = await getJson(url, `/tasks?text=${encodeURIComponent(text)}`);
      expect({ text, status, n: body.tasks.length }).toEqual({ text, status: 200, n: 0 });
    }
    // The table is still there, and the host still serves.
    expect((await getJson(url, '/tasks')).body.tasks).toHaveLength(6);
  });

  it('changes the store only with the CSRF header, from its own origin, at a loopback host name', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { url } = seeded;
    const store = seeded.host.resolve(TaskStoreToken);
    const cancel = `${url}/dashboard/api/tasks/${seeded.pending.id}/cancel`;
    const csrf = await csrfOf(url);

    const without = await fetch(cancel, { method: 'POST' });
    expect(without.status).toBe(403);
    const wrong = await fetch(cancel, { method: 'POST', headers: { 'x-agentd-csrf': 'guess' } });
    expect(wrong.status).toBe(403);
    const crossOrigin = await fetch(cancel, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf, origin: 'https://evil.example' },
    });
    expect(crossOrigin.status).toBe(403);
    // DNS rebinding: the attacker's name resolves to 127.0.0.1, the Host header gives it away.
    const rebound = await rawGet(`${url}/dashboard/api/me`, 'evil.example:8787');
    expect(JSON.parse(rebound.body)).toMatchObject({ authenticated: false });
    expect((await rawGet(`${url}/dashboard/api/tasks`, 'evil.example')).status).toBe(403);
    expect((await rawGet(`${url}/dashboard/api/tasks`, 'localhost:1')).status).toBe(200);
    expect((await store.get(seeded.pending.id))?.status).toBe('pending');

    const ok = await fetch(cancel, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf, origin: url },
    });
    expect(ok.status).toBe(200);
    expect((await store.get(seeded.pending.id))?.status).toBe('cancelled');
    const again = await fetch(cancel, { method: 'POST', headers: { 'x-agentd-csrf': csrf } });
    expect(again.status).toBe(409);

    const retry = await fetch(`${url}/dashboard/api/tasks/${seeded.failed.id}/retry`, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf },
    });
    expect(retry.status).toBe(201);
    const copy = ((await retry.json()) as { task: { id: string } }).task;
    expect(await store.get(copy.id)).toMatchObject({
      input: 'sync the CRM',
      agent: 'broken',
      metadata: { retryOf: seeded.failed.id },
    });
    const retryCompleted = await fetch(
      `${url}/dashboard/api/tasks/${seeded.completed[0]!.id}/retry`,
      {
        method: 'POST',
        headers: { 'x-agentd-csrf': csrf },
      },
    );
    expect(retryCompleted.status).toBe(409);

    const enqueue = await fetch(`${url}/dashboard/api/tasks`, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'from the dashboard', agent: 'echo' }),
    });
    expect(enqueue.status).toBe(201);
    const made = ((await enqueue.json()) as { task: { id: string } }).task;
    expect(await store.get(made.id)).toMatchObject({ input: 'from the dashboard', type: 'manual' });
    const badEnqueue = await fetch(`${url}/dashboard/api/tasks`, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'x', agent: 'nobody' }),
    });
    expect(badEnqueue.status).toBe(400);
    const extraField = await fetch(`${url}/dashboard/api/tasks`, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'x', maxAttempts: 1e9 }),
    });
    expect(extraField.status).toBe(400);

    const runNow = await fetch(`${url}/dashboard/api/schedules/nightly-report/run`, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf },
    });
    expect(runNow.status).toBe(202);
    const fromSchedule = await store.list({ type: 'schedule' });
    expect(fromSchedule.length).toBe(1);
    expect(
      (
        await fetch(`${url}/dashboard/api/schedules/nope/run`, {
          method: 'POST',
          headers: { 'x-agentd-csrf': csrf },
        })
      ).status,
    ).toBe(404);

    const reminders = await getJson(url, '/reminders');
    expect(reminders.body).toMatchObject({
      reminders: [{ id: seeded.reminder.id, description: 'call the dentist', paused: false }],
    });

    // Pause (hold) and resume (release) a reminder: CSRF-checked like every change.
    const hold = `${url}/dashboard/api/tasks/${seeded.reminder.id}/hold`;
    const release = `${url}/dashboard/api/tasks/${seeded.reminder.id}/release`;
    expect((await fetch(hold, { method: 'POST' })).status).toBe(403);
    expect((await store.get(seeded.reminder.id))?.status).toBe('pending');
    const held = await fetch(hold, { method: 'POST', headers: { 'x-agentd-csrf': csrf } });
    expect(held.status).toBe(200);
    expect(((await held.json()) as { task: { status: string } }).task.status).toBe('held');
    expect((await getJson(url, '/reminders')).body).toMatchObject({
      reminders: [{ id: seeded.reminder.id, paused: true }],
    });
    expect((await fetch(release, { method: 'POST' })).status).toBe(403);
    expect(
      (await fetch(release, { method: 'POST', headers: { 'x-agentd-csrf': csrf } })).status,
    ).toBe(200);
    expect((await store.get(seeded.reminder.id))?.status).toBe('pending');
    const holdFinished = await fetch(`${url}/dashboard/api/tasks/${seeded.completed[0]!.id}/hold`, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf },
    });
    expect(holdFinished.status).toBe(409);
    expect(((await holdFinished.json()) as { error: { message: string } }).error.message).toContain(
      'only a pending task can be held',
    );
    expect(
      (
        await fetch(`${url}/dashboard/api/tasks/nope/hold`, {
          method: 'POST',
          headers: { 'x-agentd-csrf': csrf },
        })
      ).status,
    ).toBe(404);

    const archive = `${url}/dashboard/api/sessions/${seeded.sessionId}/archive`;
    expect((await fetch(archive, { method: 'POST' })).status).toBe(403);
    expect(
      (await fetch(archive, { method: 'POST', headers: { 'x-agentd-csrf': csrf } })).status,
    ).toBe(200);
    expect((await seeded.host.resolve(SessionStoreToken).get(seeded.sessionId))?.status).toBe(
      'archived',
    );
    expect(
      (await fetch(archive, { method: 'POST', headers: { 'x-agentd-csrf': csrf } })).status,
    ).toBe(409);

    const discard = await fetch(
      `${url}/dashboard/api/dead-letters/${seeded.deadLetterId}/discard`,
      {
        method: 'POST',
        headers: { 'x-agentd-csrf': csrf },
      },
    );
    expect(discard.status).toBe(200);
    expect((await store.getDeadLetter!(seeded.deadLetterId))?.status).toBe('discarded');
  });

  it('starts a stream where the page read its data: a resync when events came in between', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const pageSince = async () => {
      const html = await (await fetch(`${seeded.url}/dashboard/`)).text();
      const block = /<script type="application\/json" id="agentd-first-view">(.*?)<\/script>/s.exec(
        html,
      );
      return (JSON.parse(block?.[1] ?? '{}') as { '/events'?: { since: number } })['/events']
        ?.since;
    };
    /** The stream's first frames (up to the hello and what follows it at once), then closed. */
    const opening = async (query: string, headers: Record<string, string> = {}) => {
      const abort = new AbortController();
      const response = await fetch(`${seeded.url}/dashboard/api/events${query}`, {
        headers: { accept: 'text/event-stream', ...headers },
        signal: abort.signal,
      });
      if (response.status !== 200) return { status: response.status, text: await response.text() };
      const reader = response.body!.getReader();
      let text = '';
      const deadline = Date.now() + 300;
      while (Date.now() < deadline) {
        const read = await Promise.race([
          reader.read(),
          new Promise<undefined>((r) => setTimeout(() => r(undefined), deadline - Date.now())),
        ]);
        if (!read || read.done) break;
        text += new TextDecoder().decode(read.value);
      }
      abort.abort();
      return { status: 200, text };
    };
    const since = await pageSince();
    expect(since).toBeGreaterThan(0);
    const current = await opening(`?since=${since}`);
    expect(current.text).toContain(`id: ${since}\nevent: hello`);
    expect(current.text).not.toContain('event: resync');

    // A task changes after the page was read: its stream starts with a resync.
    await seeded.host.resolve(TaskQueueToken).enqueue({ agent: 'echo', input: 'later' });
    await expect.poll(async () => ((await pageSince()) ?? 0) > (since ?? 0)).toBe(true);
    expect((await opening(`?since=${since}`)).text).toContain('event: resync');
    // The browser's Last-Event-ID (a reconnect) counts over the page's position.
    const now = (await pageSince()) ?? 0;
    expect((await opening(`?since=${since}`, { 'last-event-id': String(now) })).text).not.toContain(
      'event: resync',
    );
    // A stream without a position (no page data) is not told to resync.
    expect((await opening('')).text).not.toContain('event: resync');
    for (const bad of ['-1', '1.5', 'abc', '9'.repeat(16)]) {
      const refused = await opening(`?since=${encodeURIComponent(bad)}`);
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('since (or Last-Event-ID) must be a whole number');
    }
  });

  it('pushes task events to an open stream, and the host stops with the stream open', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const abort = new AbortController();
    const response = await fetch(`${seeded.url}/dashboard/api/events`, {
      headers: { accept: 'text/event-stream' },
      signal: abort.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const csrf = await csrfOf(seeded.url);
    await fetch(`${seeded.url}/dashboard/api/tasks/${seeded.pending.id}/cancel`, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf },
    });
    while (!text.includes('task.cancelled')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toContain('event: task');
    expect(text).toContain(`"id":"${seeded.pending.id}"`);
    const started = Date.now();
    await seeded.host.stop('test');
    expect(Date.now() - started).toBeLessThan(3000);
    abort.abort();
  });
});

describe('the dashboard beyond loopback', () => {
  it('asks for the token: HttpOnly SameSite=Strict cookie, CSRF refusal, throttled guesses, logout', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, {
      bind: '0.0.0.0',
      dashboard: { token: DASHBOARD_TOKEN },
    });
    const { url } = seeded;
    expect((await getJson(url, '/me')).body).toEqual({ auth: 'login', authenticated: false });
    expect((await getJson(url, '/tasks')).status).toBe(401);
    const login = (token: unknown, headers: Record<string, string> = {}) =>
      fetch(`${url}/dashboard/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ token }),
      });
    expect((await login('wrong-token-wrong-token')).status).toBe(401);
    expect((await login(DASHBOARD_TOKEN, { origin: 'https://evil.example' })).status).toBe(403);
    const formPost = await fetch(`${url}/dashboard/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ token: DASHBOARD_TOKEN }),
    });
    expect(formPost.status).toBe(415);

    const ok = await login(DASHBOARD_TOKEN);
    expect(ok.status).toBe(200);
    const setCookie = ok.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^agentd_dashboard=[A-Za-z0-9_-]{40,};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/dashboard');
    expect(setCookie).not.toContain(DASHBOARD_TOKEN);
    const cookie = setCookie.split(';')[0]!;
    // The page holds the first view's answers for a logged-in caller only.
    const anonymous = await (await fetch(`${url}/dashboard/`)).text();
    expect(anonymous).toContain('"/me":{"auth":"login","authenticated":false}');
    expect(anonymous).not.toContain('/overview');
    const loggedIn = await (await fetch(`${url}/dashboard/`, { headers: { cookie } })).text();
    expect(loggedIn).toContain('"/overview":{"host":{"name":"dash-host"');
    expect(loggedIn).toContain(`"csrf":"${await csrfOf(url, cookie)}"`);
    const tasks = await getJson(url, '/tasks', { cookie });
    expect(tasks.status).toBe(200);
    expect(tasks.body.tasks).toHaveLength(6);

    const cancel = `${url}/dashboard/api/tasks/${seeded.pending.id}/cancel`;
    expect((await fetch(cancel, { method: 'POST', headers: { cookie } })).status).toBe(403);
    const csrf = await csrfOf(url, cookie);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(
      (await fetch(cancel, { method: 'POST', headers: { cookie, 'x-agentd-csrf': csrf } })).status,
    ).toBe(200);

    const logout = await fetch(`${url}/dashboard/api/logout`, {
      method: 'POST',
      headers: { cookie, 'x-agentd-csrf': csrf },
    });
    expect(logout.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await getJson(url, '/tasks', { cookie })).status).toBe(401);

    // Guessing: five wrong tokens a minute, then 429 even for the right one.
    for (let i = 0; i < 5; i++) await login(`guess-${i}-guess-guess-guess`);
    const throttled = await login(DASHBOARD_TOKEN);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('refuses to start beyond loopback without a token', async () => {
    const host = createHost({
      logger: memoryLogger().logger,
      plugins: [sqlite({ path: dbPath() }), webhook({ port: 0, host: '0.0.0.0' }), dashboard()],
    });
    hosts.push(host);
    await expect(host.start()).rejects.toMatchObject({ cause: { code: 'E_DASHBOARD_TOKEN' } });
  });
});

describe('the shipped assets', () => {
  it('weigh at most 150 KB gzipped', () => {
    const assets = ClientAssets.load();
    expect(assets.names).toContain('index.html');
    expect(assets.gzippedBytes).toBeLessThanOrEqual(150 * 1024);
  });
});
