import { HttpError, type HttpResponse, type RouteHandler } from '@agentd/core';

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
  // Not an async function: one `then` per delivery instead of an async function's promise and
  // await (this wraps every webhook delivery).
  const reported = (answer: HttpResponse): HttpResponse => {
    report(answer.status ?? 200);
    return answer;
  };
  const failed = (error: unknown): never => {
    report(error instanceof HttpError ? error.status : 500);
    throw error;
  };
  return (request) => {
    let answer: HttpResponse | Promise<HttpResponse>;
    try {
      answer = handler(request);
    } catch (error) {
      return failed(error);
    }
    return typeof (answer as Partial<PromiseLike<HttpResponse>>).then === 'function'
      ? Promise.resolve(answer).then(reported, failed)
      : reported(answer as HttpResponse);
  };
}
