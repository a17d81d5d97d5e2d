import { readFileSync } from 'node:fs';

/**
 * The fenced code blocks of a markdown file, with the `<!-- doc-test: ... -->` annotation that
 * may stand on the line right before a fence. docs-examples.test.ts runs or type-checks each one.
 *
 * Annotations (all visible in the markdown source, none in the rendered page):
 * - `skip: <reason>`: not run; the reason is required, so nothing is untested silently.
 * - `run`: a TypeScript block that is a whole program: it is also run, and must exit 0.
 * - `output`: a JSON block that shows an answer or a file's shape, not a config (it must parse).
 * - `file=<name>`: the file the block is saved as in its page's project (`hello.ts`, `.env`).
 * - `context=<name>`: how a TypeScript fragment is completed for the type check (see `CONTEXTS`).
 * - `after=<name>`: a TypeScript fragment that continues the page's block saved as `<name>`.
 * - `host=<config>`: a shell block run as one script while a host started with `<config>` (a
 *   file of the page's project) runs; `8787` in it is that host's port.
 */
export interface DocBlock {
  /** Repository-relative path of the markdown file. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word, lower-cased (`ts`, `sh`, `json`, `console`, `text`, or ''). */
  lang: string;
  /** The block's lines, without the fences and without the indentation of the fence. */
  lines: string[];
  annotation: Annotation;
}

export interface Annotation {
  skip?: string;
  output?: boolean;
  run?: boolean;
  file?: string;
  context?: string;
  after?: string;
  host?: string;
}

/** `docs/x.md:12`, the place a failure message names. */
export const where = (block: Pick<DocBlock, 'doc' | 'line'>) => `${block.doc}:${block.line}`;

export function parseAnnotation(text: string, place: string): Annotation {
  const skip = /^skip\s*:\s*(.*)$/s.exec(text);
  if (skip) {
    if (!skip[1]!.trim()) throw new Error(`${place}: "doc-test: skip" needs a reason`);
    return { skip: skip[1]!.trim() };
  }
  const annotation: Annotation = {};
  for (const token of text.split(/\s+/).filter(Boolean)) {
    const [key, value] = token.split('=', 2) as [string, string | undefined];
    if ((key === 'output' || key === 'run') && value === undefined) annotation[key] = true;
    else if (['file', 'context', 'after', 'host'].includes(key) && value) {
      annotation[key as 'file' | 'context' | 'after' | 'host'] = value;
    } else throw new Error(`${place}: unknown doc-test annotation "${token}"`);
  }
  return annotation;
}

/** Reads every fenced block of `absPath`; `doc` is how failures name the file. */
export function readDocBlocks(absPath: string, doc: string): DocBlock[] {
  const lines = readFileSync(absPath, 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[j]!);
      if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length) break;
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trim());
    }
    if (j === lines.length) throw new Error(`${doc}:${i + 1}: code fence is never closed`);
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === '') k--;
    const comment = k >= 0 ? /^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$/.exec(lines[k]!) : null;
    blocks.push({
      doc,
      line: i + 1,
      lang: info.toLowerCase(),
      lines: body,
      annotation: comment ? parseAnnotation(comment[1]!, `${doc}:${k + 1}`) : {},
    });
    i = j;
  }
  return blocks;
}

/** A generated source file and, per line, the markdown line it came from (0: generated). */
export interface Generated {
  text: string;
  sourceLines: number[];
}

/**
 * How TypeScript fragments are completed into modules for the type check. Each is a way a user
 * would use the fragment: inside a plugin's hook, as fields of `defineConfig({...})`, or as a
 * value of a documented type.
 */
export const CONTEXTS = {
  /** Code in a plugin hook: `ctx` is the hook's PluginContext, `message` an inbound message. */
  'plugin-hook': {
    prelude: [
      "declare const ctx: import('@agentd/core').PluginContext;",
      "declare const message: import('@agentd/core').InboundMessage;",
    ],
  },
  /** Fields of the config object (`plugins: [...]`, `runner: {...}`): the block's own imports
   *  stay on top and the rest goes into `defineConfig({ ... })`. */
  'config-fields': {
    prelude: ["import { defineConfig as __defineConfig } from '@agentd/core';"],
    open: 'export default __defineConfig({',
    close: '});',
  },
  /** An object literal that is a plugin. */
  'plugin-object': {
    prelude: [],
    open: "export const __value: import('@agentd/core').Plugin = (",
    close: ');',
  },
  /** An object literal that is one of `webhook({ routes })`. */
  'webhook-route': {
    prelude: [],
    open: "export const __value: NonNullable<import('@agentd/plugin-webhook').WebhookOptions['routes']>[number] = (",
    close: ');',
  },
} as const satisfies Record<string, { prelude: string[]; open?: string; close?: string }>;

const isImportStart = (line: string) => /^import\s/.test(line);

/**
 * The module the type check compiles for a TypeScript block: the blocks it continues (`after`),
 * the context's prelude and wrapper, and the block, each line mapped back to the markdown.
 */
export function typescriptModule(block: DocBlock, earlier: (file: string) => DocBlock): Generated {
  const out: { text: string; line: number }[] = [];
  const own = (b: DocBlock) => b.lines.map((text, i) => ({ text, line: b.line + 1 + i }));
  const context = block.annotation.context;
  if (context !== undefined && !(context in CONTEXTS)) {
    throw new Error(`${where(block)}: unknown doc-test context "${context}"`);
  }
  const spec = context ? CONTEXTS[context as keyof typeof CONTEXTS] : undefined;
  for (const text of spec?.prelude ?? []) out.push({ text, line: 0 });
  if (block.annotation.after) out.push(...own(earlier(block.annotation.after)));
  const body = own(block);
  if (spec && 'open' in spec) {
    // The leading import declarations (possibly several lines each) stay at module level.
    let split = 0;
    let inImport = false;
    for (let i = 0; i < body.length; i++) {
      const text = body[i]!.text;
      if (!inImport && isImportStart(text)) inImport = true;
      if (inImport) {
        if (/from\s+['"][^'"]+['"];?\s*$/.test(text) || /^import\s+['"]/.test(text)) {
          inImport = false;
          split = i + 1;
        }
        continue;
      }
      if (text.trim() !== '') break;
      split = i + 1;
    }
    out.push(...body.slice(0, split), { text: spec.open, line: 0 });
    const rest = body.slice(split);
    for (let i = rest.length - 1; i >= 0; i--) {
      if (rest[i]!.text.trim() === '') continue;
      rest[i] = { ...rest[i]!, text: rest[i]!.text.replace(/;\s*$/, '') };
      break;
    }
    out.push(...rest, { text: spec.close, line: 0 });
  } else {
    out.push(...body);
  }
  // Every block is its own module, so top-level names never clash between blocks.
  out.push({ text: 'export {};', line: 0 });
  return { text: `${out.map((l) => l.text).join('\n')}\n`, sourceLines: out.map((l) => l.line) };
}

/** A complete config: it default-exports `defineConfig(...)`. */
export const isCompleteConfig = (block: DocBlock) =>
  block.lines.some((l) => /^export default defineConfig\(/.test(l));

/** The file a TypeScript block is saved as: its annotation, its `// name.ts` first line, or one
 *  named after its line. */
export function typescriptFileName(block: DocBlock): string {
  if (block.annotation.file) return block.annotation.file;
  const first = /^\/\/\s*(agentd\.config\.ts)\s*$/.exec(block.lines[0] ?? '');
  if (first || isCompleteConfig(block)) return 'agentd.config.ts';
  return `block-${block.line}.ts`;
}

/**
 * Shell lines of a block: comments dropped, `\` continuations joined, each with its line.
 */
export function shellCommands(block: DocBlock): { command: string; line: number }[] {
  const commands: { command: string; line: number }[] = [];
  let pending: { command: string; line: number } | undefined;
  block.lines.forEach((raw, i) => {
    const text = raw.replace(/(^|\s)#(\s.*)?$/, '').trimEnd();
    const line = block.line + 1 + i;
    if (pending) {
      pending.command += ` ${text.trim().replace(/\\$/, '').trim()}`;
      if (!text.endsWith('\\')) {
        commands.push(pending);
        pending = undefined;
      }
      return;
    }
    if (text.trim() === '') return;
    if (text.endsWith('\\')) pending = { command: text.replace(/\\$/, '').trim(), line };
    else commands.push({ command: text.trim(), line });
  });
  if (pending) commands.push(pending);
  return commands;
}

/**
 * A console transcript: `$ command` lines, each followed by the output the docs show for it.
 */
export function transcript(block: DocBlock): {
  command: string;
  line: number;
  output: { text: string; line: number }[];
}[] {
  const steps: ReturnType<typeof transcript> = [];
  block.lines.forEach((raw, i) => {
    const line = block.line + 1 + i;
    if (raw.startsWith('$ ')) {
      const command = raw
        .slice(2)
        .replace(/(^|\s)#(\s.*)?$/, '')
        .trim();
      steps.push({ command, line, output: [] });
    } else if (steps.length > 0 && raw.trim() !== '')
      steps.at(-1)!.output.push({ text: raw, line });
  });
  return steps;
}
