import { ExponentialBackoff, handleAll, retry, TimeoutStrategy, timeout, wrap } from 'cockatiel';

/**
 * One outbound webhook as a route's target: a Standard Webhooks POST signed with `secret`.
 *
 * @example
 * ```ts
 * const hook: WebhookTarget = { url: 'https://ops.example.com/agentd', secret: 'whsec_...', timeoutMs: 5000, retries: 3 };
 * ```
 */
export interface WebhookTarget {
  url: string;
  /** `whsec_` and base64, as Standard Webhooks issues them. */
  secret: string;
  timeoutMs: number;
  retries: number;
}

/**
 * Posts `payload` to `target` as JSON, signed by the Standard Webhooks convention
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`, signed
 * over `id.timestamp.body`), with a timeout per attempt and `retries` more attempts with
 * exponential backoff (1 s doubling to 30 s). Every attempt carries the same `webhook-id`, so
 * the receiver can drop a repeat. Rejects once every attempt failed; a non-2xx answer is a
 * failure. The secret never appears in an error.
 *
 * @example
 * ```ts
 * await postSignedWebhook(target, 'msg_2Kx...', { type: 'alert', timestamp: new Date().toISOString(), data: alert });
 * ```
 */
export async function postSignedWebhook(
  target: WebhookTarget,
  id: string,
  payload: unknown,
  options: { signal?: AbortSignal; now?: () => number; initialDelayMs?: number } = {},
): Promise<void> {
  const body = JSON.stringify(payload);
  // Loaded with the first alert sent, not with core: every CLI command would load it (CommonJS,
  // which Node scans for export names when imported: about 15 ms of CPU), and few hosts send any.
  const { Webhook } = await import('standardwebhooks');
  const signer = new Webhook(target.secret);
  const policy = wrap(
    retry(handleAll, {
      maxAttempts: target.retries,
      backoff: new ExponentialBackoff({
        initialDelay: options.initialDelayMs ?? 1_000,
        maxDelay: 30_000,
      }),
    }),
    timeout(target.timeoutMs, TimeoutStrategy.Aggressive),
  );
  await policy.execute(async ({ signal }) => {
    // Signed per attempt: receivers reject timestamps far from their clock.
    const at = new Date(options.now?.() ?? Date.now());
    const headers = {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signer.sign(id, at, body),
    };
    const res = await fetch(target.url, { method: 'POST', headers, body, signal });
    // The answer's body is not ours to keep; read it so the connection is freed.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`the receiver answered ${res.status}`);
  }, options.signal);
}
