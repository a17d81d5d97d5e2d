// The first view's API answers, put in the page by the server (src/assets.ts: a JSON block, never
// run): the overview shows its data in the page's first frame, with no read in between. The
// server's own rendering of that view (server-render.tsx) reads the same answers through
// `withFirst`.

let answers: Map<string, unknown> | undefined;

/** The page's answers, read from its JSON block the first time they are asked for. */
function pageAnswers(): Map<string, unknown> {
  if (answers) return answers;
  answers = new Map();
  if (typeof document === 'undefined') return answers;
  try {
    const block = document.getElementById('agentd-first-view');
    answers = new Map(Object.entries(JSON.parse(block?.textContent || '{}') as object));
  } catch {
    // A page without a readable block: every view reads the API.
  }
  return answers;
}

/** Whether the page holds an answer for `path` not yet taken. */
export const hasFirst = (path: string): boolean => pageAnswers().has(path);

/** The page's answer for `path`, once (later reads ask the API), or undefined. */
export function takeFirst<T>(path: string): T | undefined {
  const all = pageAnswers();
  const answer = all.get(path) as T | undefined;
  all.delete(path);
  return answer;
}

/**
 * Runs `render` (synchronously) with `given` as the page's answers: how the server renders the
 * first view from the answers it puts in the page. The answers in place before come back after.
 */
export function withFirst<T>(given: Readonly<Record<string, unknown>>, render: () => T): T {
  const before = answers;
  answers = new Map(Object.entries(given));
  try {
    return render();
  } finally {
    answers = before;
  }
}
