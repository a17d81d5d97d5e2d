// OpenTelemetry spans through @opentelemetry/api only: with no SDK registered nothing records;
// with the SDK's in-memory exporter, a task's run span is the parent of each agent attempt, and
// each input a channel takes in has its intake span.
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { TaskQueueToken } from '../contracts/task.js';
import { InvalidInputError } from '../kernel/errors.js';
import { IntakeGuardToken } from '../kernel/intake-guard.js';
import { AGENTD_TRACER, inSpan } from '../kernel/tracing.js';
import { createHost } from '../preset/host.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { memoryStore } from '../testing/memory-store.js';
import { useTestHosts } from '../testing/test-hosts.js';
import { agent } from './function-agent.js';

const { store: testStore } = useTestHosts('agentd-tracing-');

/**
 * The SDK's in-memory exporter, registered once for the file (a global tracer provider can be set
 * only once per process), emptied for each test that asks for it.
 */
let registered: InMemorySpanExporter | undefined;
function recordedSpans(): InMemorySpanExporter {
  if (!registered) {
    registered = new InMemorySpanExporter();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(registered)] }),
    );
  }
  registered.reset();
  return registered;
}

async function runTasks(agents: ReturnType<typeof agent>[], tasks: { agent: string }[]) {
  const host = createHost({
    name: 'trace-box',
    logger: memoryLogger().logger,
    agents,
    plugins: [memoryStore({ store: testStore() })],
  });
  await host.start();
  try {
    let left = tasks.length;
    const done = new Promise<void>((resolve) => {
      const settle = () => {
        if (--left === 0) resolve();
      };
      host.events.on('task.completed', settle);
      host.events.on('task.failed', settle);
    });
    await host
      .resolve(TaskQueueToken)
      .enqueueMany(tasks.map((t) => ({ input: 'hi', agent: t.agent, maxAttempts: 1 })));
    await done;
  } finally {
    await host.stop('test end');
  }
}

describe('tracing', () => {
  it('records nothing without an SDK (the API is a no-op)', async () => {
    const seen: (boolean | undefined)[] = [];
    await runTasks(
      [
        agent('echo', (input) => {
          seen.push(trace.getActiveSpan()?.isRecording());
          return input;
        }),
      ],
      [{ agent: 'echo' }],
    );
    // No span reaches the agent, and the API's tracer only hands out non-recording spans.
    expect(seen).toEqual([undefined]);
    const probe = trace.getTracer(AGENTD_TRACER).startSpan('probe');
    expect(probe.isRecording()).toBe(false);
    probe.end();
  });

  it('without an SDK, runs the work as is: its value, its rejection, a synchronous throw', async () => {
    const spans: boolean[] = [];
    await expect(
      inSpan('agentd.test', {}, async (span) => {
        spans.push(span.isRecording());
        span.setAttribute('ignored', 1);
        return 42;
      }),
    ).resolves.toBe(42);
    await expect(
      inSpan('agentd.test', {}, () => Promise.reject(new Error('async no'))),
    ).rejects.toThrow('async no');
    const thrown = inSpan('agentd.test', {}, () => {
      throw new Error('sync no');
    });
    await expect(thrown).rejects.toThrow('sync no');
    expect(spans).toEqual([false]);
  });

  it('makes each agent attempt a child of its task run span', async () => {
    const exporter = recordedSpans();
    await runTasks(
      [
        agent('echo', (input) => input),
        agent('broken', () => {
          throw new Error('the tool is missing');
        }),
      ],
      [{ agent: 'echo' }, { agent: 'broken' }],
    );
    const spans = exporter.getFinishedSpans();
    const runs = spans.filter((s) => s.name === 'agentd.task.run');
    const attempts = spans.filter((s) => s.name === 'agentd.agent.attempt');
    expect(runs).toHaveLength(2);
    expect(attempts).toHaveLength(2);
    for (const run of runs) {
      const agentName = run.attributes['agentd.agent'];
      const child = attempts.find((a) => a.attributes['agentd.agent'] === agentName);
      expect(child?.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
      expect(child?.spanContext().traceId).toBe(run.spanContext().traceId);
      expect(child?.attributes['agentd.task.id']).toBe(run.attributes['agentd.task.id']);
    }
    const failed = runs.find((r) => r.attributes['agentd.agent'] === 'broken');
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(runs.find((r) => r.attributes['agentd.agent'] === 'echo')?.status.code).not.toBe(
      SpanStatusCode.ERROR,
    );
  });

  it('gives each input taken in an intake span, with the dead letter it became on failure', async () => {
    const exporter = recordedSpans();
    const host = createHost({
      name: 'trace-intake',
      logger: memoryLogger().logger,
      plugins: [memoryStore({ store: testStore() })],
    });
    await host.start();
    try {
      const guard = host.resolve(IntakeGuardToken);
      const taken = await guard.take(
        { channel: 'chat', key: 'chat:1', raw: () => '"hello"' },
        async () => {
          // What the work does runs inside the intake span.
          expect(trace.getActiveSpan()?.isRecording()).toBe(true);
          return 'taken';
        },
      );
      expect(taken).toEqual({ ok: true, value: 'taken' });
      const refused = await guard.take(
        { channel: 'chat', key: 'chat:2', raw: () => '{}' },
        async () => {
          throw new InvalidInputError('the message has no text');
        },
      );
      expect(refused.ok).toBe(false);
      const intakes = exporter.getFinishedSpans().filter((s) => s.name === 'agentd.intake');
      expect(intakes.map((s) => s.attributes['agentd.channel'])).toEqual(['chat', 'chat']);
      expect(intakes[0]!.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(intakes[0]!.attributes['agentd.dead_letter']).toBeUndefined();
      expect(intakes[1]!.attributes).toMatchObject({
        'agentd.intake.code': 'E_INVALID_INPUT',
        'agentd.dead_letter': refused.ok ? undefined : refused.deadLetter.id,
      });
    } finally {
      await host.stop('test end');
    }
  });
});
