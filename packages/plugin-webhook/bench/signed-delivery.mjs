// Standard Webhooks deliveries for the HTTP benches: each request gets its own id, the current
// timestamp and an HMAC-SHA256 signature of `${id}.${timestamp}.${body}` under `key`.
import { createHmac } from 'node:crypto';

/**
 * An autocannon `setupRequest` that signs each delivery of `body` with `key` (a Buffer).
 *
 * @example
 * ```js
 * autocannon({ url, requests: [{ setupRequest: signedDeliveries(key, body) }] });
 * ```
 */
export function signedDeliveries(key, body) {
  let delivery = 0;
  return (req) => {
    const id = `msg_${process.pid}_${delivery++}`;
    const ts = Math.floor(Date.now() / 1000);
    const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
    return {
      ...req,
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': `v1,${sig}`,
      },
    };
  };
}
