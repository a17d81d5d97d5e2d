import { useEffect, useState } from 'preact/hooks';

// Routing on the URL's hash (`#/tasks/abc`): the server serves one page at /dashboard/, and
// nothing a route holds is sent to the server or kept in its logs.

export interface Route {
  /** Path segments: `#/tasks/abc` → ['tasks', 'abc']. */
  parts: string[];
  params: URLSearchParams;
}

/** The route the URL names now. */
export function currentRoute(): Route {
  // No location on the server, whose first-view rendering is always the overview's.
  const hash = (typeof location === 'undefined' ? '' : location.hash).replace(/^#\/?/, '');
  const [path = '', search = ''] = hash.split('?');
  return {
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    params: new URLSearchParams(search),
  };
}

/** The current route, re-rendering on navigation. */
export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const onChange = () => setRoute(currentRoute());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** A link target for a route. */
export function href(parts: string[], params?: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v) search.set(k, v);
  const q = search.toString();
  return `#/${parts.map(encodeURIComponent).join('/')}${q ? `?${q}` : ''}`;
}

/** Goes to a route (replacing the history entry for filter changes). */
export function navigate(target: string, replace = false): void {
  if (replace) history.replaceState(null, '', target);
  else location.hash = target.slice(1);
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}
