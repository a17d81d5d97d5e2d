import { createRequire } from 'node:module';
import type { Attributes, Span, TracerProvider } from '@opentelemetry/api';

/**
 * `@opentelemetry/api` (about 45 modules), loaded by the first span rather than with core, so a
 * CLI command that runs no task does not pay for it. Node resolves the package to its CommonJS
 * build for `import` as well, so `require` shares the one copy (and registry) an SDK uses.
 */
let api: typeof import('@opentelemetry/api') | undefined;
const otel = () => {
  api ??= createRequire(import.meta.url)(
    '@opentelemetry/api',
  ) as typeof import('@opentelemetry/api');
  return api;
};

/** The API's own no-op provider (what a proxy with no SDK behind it delegates to). */
let noopProvider: TracerProvider | undefined;
let noopSpan: Span | undefined;

/**
 * Whether an OpenTelemetry SDK has registered a tracer provider, asked at every span so one
 * registered after the host started is used from then on. Without one every span is a no-op.
 */
function tracing(api: typeof import('@opentelemetry/api')): boolean {
  noopProvider ??= new api.ProxyTracerProvider().getDelegate();
  const provider = api.trace.getTracerProvider();
  const actual = provider instanceof api.ProxyTracerProvider ? provider.getDelegate() : provider;
  return actual !== noopProvider;
}

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
  const api = otel();
  if (!tracing(api)) {
    // What the no-op tracer would do, without its tracer, span and context objects (a few per
    // span, on every task's hot path): `fn` runs in the current context, with a span that
    // records nothing.
    noopSpan ??= api.trace.wrapSpanContext(api.INVALID_SPAN_CONTEXT);
    try {
      return fn(noopSpan);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const { trace, SpanStatusCode } = api;
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
