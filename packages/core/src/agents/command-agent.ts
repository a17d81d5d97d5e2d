import { type ChildProcess, spawn } from 'node:child_process';
import type { Agent, AgentResult, AgentRunContext, SessionResources } from '../contracts/agent.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';
import type { Session } from '../contracts/session.js';
import { AgentError } from '../failover/errors.js';
import { killGroup, processIdentity, processRecord, terminateGroup } from '../kernel/process.js';

/** Options of {@link commandAgent}. */
export interface CommandAgentOptions {
  name: string;
  /** The executable, e.g. `claude`, `aider`, `llm`, `python3`. Not run through a shell. */
  command: string;
  /** Arguments; with `input: 'arg'`, `{input}` is replaced by the input (or it is appended). */
  args?: readonly string[];
  /** How the input reaches the command: on stdin (default) or as an argument. */
  input?: 'stdin' | 'arg';
  /** `task` (default): one process per task. `session`: one long-lived process per session. */
  mode?: 'task' | 'session';
  /** Kill the run after this long (default 10 min). The runner's task timeout applies too. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL when a run is killed (default 5 s). */
  killGraceMs?: number;
  cwd?: string;
  /** Added to the host's environment. */
  env?: Readonly<Record<string, string>>;
  /** Parse stdout as JSON (default: the trimmed text). */
  json?: boolean;
  /** Keep at most this much stdout (default 1 MiB); more fails the run. */
  maxOutputBytes?: number;
  /** Session mode only. */
  session?: {
    /** Extra arguments when re-creating a suspended session, e.g. `['--continue']`. */
    resumeArgs?: readonly string[];
    /**
     * A line the process prints after each answer. Without it, each answer is one line.
     */
    endMarker?: string;
    /** A resumed process that exits within this long counts as a failed resume (default 300 ms). */
    resumeCheckMs?: number;
  };
}

const STDERR_TAIL = 2000;

function inputText(input: JsonValue): string {
  return typeof input === 'string' ? input : JSON.stringify(input);
}

function commandLine(child: ChildProcess, fallback: string): string {
  return (child.pid !== undefined && processIdentity(child.pid)?.command) || fallback;
}

/** A long-lived process of a session; `proc` is replaced if it dies between turns. */
export interface CommandSession {
  proc: ChildProcess | undefined;
  stdout: string;
  stderr: string;
  identity: JsonObject | undefined;
}

/**
 * An agent that runs a command-line program: any CLI agent (`claude -p`, `aider --message`,
 * `llm`, a Python script). The input goes to stdin (or an argument), stdout is the result.
 * The process runs in its own process group, so on timeout, cancel or shutdown the whole group
 * (children included) gets SIGTERM, then SIGKILL after `killGraceMs`; children left behind by a
 * finished command are killed too. A non-zero exit becomes an error whose message carries the
 * exit code and the end of stderr, which the failover classifier reads (a `429` or
 * `rate limit` in stderr is a rate limit, `401` an auth error, anything else a tool failure).
 *
 * In `session` mode, one process per session stays up between messages (each input is written
 * as a line; the answer is one line, or everything up to `endMarker`); the session manager
 * stops it when the session idles and starts it again with `resumeArgs` when the user returns.
 *
 * @example
 * ```ts
 * import { commandAgent, defineConfig } from '@agentd/core';
 *
 * export default defineConfig({
 *   agents: [
 *     commandAgent({ name: 'claude', command: 'claude', args: ['-p'], timeoutMs: 600_000 }),
 *     commandAgent({ name: 'summarise', command: 'python3', args: ['summarise.py', '{input}'], input: 'arg' }),
 *   ],
 * });
 * ```
 */
export function commandAgent(options: CommandAgentOptions): Agent {
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const graceMs = options.killGraceMs ?? 5_000;
  const maxBytes = options.maxOutputBytes ?? 1024 * 1024;

  const spawnProcess = (args: readonly string[]): ChildProcess =>
    spawn(options.command, [...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group: one kill reaches the agent and everything it started.
      detached: true,
    });

  const argsFor = (text: string): string[] => {
    const args = [...(options.args ?? [])];
    if (options.input !== 'arg') return args;
    return args.includes('{input}')
      ? args.map((a) => (a === '{input}' ? text : a))
      : [...args, text];
  };

  const parse = (stdout: string): JsonValue => {
    const text = stdout.trim();
    if (!options.json) return text;
    try {
      return JSON.parse(text) as JsonValue;
    } catch (cause) {
      throw new AgentError(`command "${options.command}" printed invalid JSON`, {
        errorClass: 'tool_failure',
        cause,
      });
    }
  };

  const failure = (code: number | null, sig: NodeJS.Signals | null, stderr: string): AgentError => {
    const tail = stderr.trim().slice(-STDERR_TAIL);
    const how = code === null ? `was killed by ${sig}` : `exited with code ${code}`;
    return new AgentError(`command "${options.command}" ${how}${tail ? `: ${tail}` : ''}`, {
      exitCode: code,
      ...(code === 127 && { errorClass: 'tool_failure' as const }),
    });
  };

  async function runOnce(
    input: JsonValue,
    ctx: AgentRunContext<CommandSession>,
  ): Promise<AgentResult> {
    const text = inputText(input);
    const child = spawnProcess(argsFor(text));
    // Recorded with the task's lease at once, so that if this host dies the host recovering the
    // lease ends the process before the task runs again. Not awaited here: the exit listener
    // below must be in place before the command can exit.
    const recorded =
      child.pid === undefined || !ctx.recordProcess
        ? undefined
        : ctx
            .recordProcess(processRecord(child.pid, options.command))
            .catch((err: unknown) =>
              ctx.logger.warn({ err }, 'could not record the command process with its lease'),
            );
    let stdout = '';
    let stderr = '';
    let bytes = 0;
    let killedFor: 'timeout' | 'abort' | 'output' | undefined;
    const kill = (why: 'timeout' | 'abort' | 'output') => {
      if (killedFor || child.pid === undefined) return;
      killedFor = why;
      void terminateGroup(child.pid, graceMs);
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      bytes += Buffer.byteLength(d);
      if (bytes > maxBytes) return kill('output');
      stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_TAIL * 2);
    });
    child.stdin!.on('error', () => {}); // the command may exit without reading its input
    if (options.input === 'arg') child.stdin!.end();
    else child.stdin!.end(text);
    const timer = ctx.clock.setTimeout(() => kill('timeout'), timeoutMs);
    const onAbort = () => kill('abort');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    if (ctx.signal.aborted) onAbort();
    try {
      const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>(
        (resolve, reject) => {
          child.once('error', (err) =>
            reject(
              new AgentError(`command "${options.command}" could not start: ${err.message}`, {
                errorClass: 'tool_failure',
                cause: err,
              }),
            ),
          );
          child.once('exit', (c, s) => resolve([c, s]));
        },
      );
      await recorded;
      // Let the pipes drain, then end whatever the command left running in its group.
      await new Promise<void>((r) => {
        if (child.stdout!.readableEnded) return r();
        const t = setTimeout(r, 50);
        child.stdout!.once('end', () => {
          clearTimeout(t);
          r();
        });
      });
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      if (killedFor === 'abort') throw ctx.signal.reason;
      if (killedFor === 'timeout') {
        throw new AgentError(`command "${options.command}" timed out after ${timeoutMs} ms`, {
          errorClass: 'timeout',
        });
      }
      if (killedFor === 'output') {
        throw new AgentError(`command "${options.command}" printed more than ${maxBytes} bytes`, {
          errorClass: 'tool_failure',
        });
      }
      if (code !== 0) throw failure(code, sig, stderr);
      return { output: parse(stdout) };
    } finally {
      timer.cancel();
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  // Session mode: one process per session, a line (or up to endMarker) per answer.
  const startSession = async (
    extraArgs: readonly string[],
    checkMs: number,
  ): Promise<CommandSession> => {
    const s: CommandSession = { proc: undefined, stdout: '', stderr: '', identity: undefined };
    const child = spawnProcess([...(options.args ?? []), ...extraArgs]);
    s.proc = child;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      s.stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      s.stderr = (s.stderr + d).slice(-STDERR_TAIL * 2);
    });
    child.stdin!.on('error', () => {});
    const early = await new Promise<AgentError | undefined>((resolve) => {
      const t = setTimeout(() => resolve(undefined), checkMs);
      child.once('error', (err) => {
        clearTimeout(t);
        resolve(
          new AgentError(`command "${options.command}" could not start: ${err.message}`, {
            errorClass: 'tool_failure',
          }),
        );
      });
      child.once('exit', (code, sig) => {
        clearTimeout(t);
        resolve(failure(code, sig, s.stderr));
      });
    });
    if (early) {
      s.proc = undefined;
      throw early;
    }
    child.once('exit', () => {
      if (s.proc === child) s.proc = undefined;
    });
    s.identity = processRecord(child.pid!, commandLine(child, options.command));
    return s;
  };

  async function runInSession(
    input: JsonValue,
    ctx: AgentRunContext<CommandSession>,
  ): Promise<AgentResult> {
    const s = ctx.resource!;
    if (!s.proc) {
      // The process died between turns: start a fresh one with the resume arguments.
      Object.assign(
        s,
        await startSession(
          options.session?.resumeArgs ?? [],
          options.session?.resumeCheckMs ?? 300,
        ),
      );
    }
    const child = s.proc!;
    s.stdout = '';
    const marker = options.session?.endMarker;
    child.stdin!.write(`${inputText(input).replace(/\r?\n/g, ' ')}\n`);
    return new Promise<AgentResult>((resolve, reject) => {
      let done = false;
      const finish = (err: unknown, output?: JsonValue) => {
        if (done) return;
        done = true;
        timer.cancel();
        child.stdout!.off('data', check);
        child.off('exit', onExit);
        ctx.signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve({ output: output! });
      };
      const check = () => {
        if (marker === undefined) {
          const i = s.stdout.indexOf('\n');
          if (i >= 0) finish(undefined, parse(s.stdout.slice(0, i)));
          return;
        }
        const lines = s.stdout.split('\n');
        const at = lines.findIndex((l) => l.trim() === marker);
        if (at >= 0) finish(undefined, parse(lines.slice(0, at).join('\n')));
      };
      const onExit = (code: number | null, sig: NodeJS.Signals | null) =>
        finish(failure(code, sig, s.stderr));
      const kill = (err: unknown) => {
        if (child.pid !== undefined) void terminateGroup(child.pid, graceMs);
        finish(err);
      };
      const onAbort = () => kill(ctx.signal.reason);
      const timer = ctx.clock.setTimeout(
        () =>
          kill(
            new AgentError(`command "${options.command}" timed out after ${timeoutMs} ms`, {
              errorClass: 'timeout',
            }),
          ),
        timeoutMs,
      );
      child.stdout!.on('data', check);
      child.once('exit', onExit);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  const sessions: SessionResources<CommandSession> = {
    open: () => startSession([], 20),
    async suspend(_session: Session, s: CommandSession) {
      if (s.proc?.pid !== undefined) await terminateGroup(s.proc.pid, graceMs);
      s.proc = undefined;
      return { resumable: true };
    },
    resume: () =>
      startSession(options.session?.resumeArgs ?? [], options.session?.resumeCheckMs ?? 300),
    async close(_session: Session, s: CommandSession) {
      if (s.proc?.pid !== undefined) await terminateGroup(s.proc.pid, graceMs);
      s.proc = undefined;
    },
    describe: (s) => (s.proc ? s.identity : undefined),
  };

  const sessionMode = options.mode === 'session';
  const agent: Agent<CommandSession> = {
    name: options.name,
    run: (input, ctx) =>
      sessionMode && ctx.resource ? runInSession(input, ctx) : runOnce(input, ctx),
    ...(sessionMode && { sessions }),
  };
  // The registry holds agents of any resource type; the session manager hands back what open() made.
  return agent as Agent;
}
