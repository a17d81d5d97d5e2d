// The first view's API answers, put in the page by the server (src/assets.ts: a JSON block, never
// run): the overview shows its data in the page's first frame, with no read in between.

const answers: Map<string, unknown> = (() => {
  const block = document.getElementById('agentd-first-view');
  try {
    return new Map(Object.entries(JSON.parse(block?.textContent || '{}') as object));
  } catch {
    return new Map();
  }
})();

/** Whether the page holds an answer for `path` not yet taken. */
export const hasFirst = (path: string): boolean => answers.has(path);

/** The page's answer for `path`, once (later reads ask the API), or undefined. */
export function takeFirst<T>(path: string): T | undefined {
  const answer = answers.get(path) as T | undefined;
  answers.delete(path);
  return answer;
}
