import { HttpError, type RouteHandler } from '@agentd/core';

/**
 * `handler` of a webhook route, telling `report` the status of every delivery it answers (the
 * plugin emits `webhook.delivery` with it, for metrics): the answer's status, an `HttpError`'s,
 * or 500 for anything else thrown.
 *
 * @example
 * ```ts
 * http.route({ method: 'POST', path: route.path,
 *   handler: reportingDeliveries(webhookHandler(route, deps), (status) => console.log(status)) });
 * ```
 */
export function reportingDeliveries(
  handler: RouteHandler,
  report: (status: number) => void,
): RouteHandler {
  return async (request) => {
    try {
      const answer = await handler(request);
      report(answer.status ?? 200);
      return answer;
    } catch (error) {
      report(error instanceof HttpError ? error.status : 500);
      throw error;
    }
  };
}
