import { type Attributes, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * The tracer name of agentd's spans. Spans go through `@opentelemetry/api` only: with no SDK
 * registered the API's tracer is a no-op and nothing is recorded (see docs/tracing.md).
 */
export const AGENTD_TRACER = '@agentd/core';

/**
 * Runs `fn` inside a span named `name` (active for what `fn` awaits, so spans started inside
 * become its children), recording a thrown error on it and ending it either way.
 *
 * @example
 * ```ts
 * await inSpan('agentd.task.run', { 'agentd.task.id': task.id }, () => agent.run(task.input, ctx));
 * ```
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return trace.getTracer(AGENTD_TRACER).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name ?? 'error' });
      span.setAttribute('agentd.error', (err as Error)?.name ?? 'error');
      throw err;
    } finally {
      span.end();
    }
  });
}
