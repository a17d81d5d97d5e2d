/**
 * Run in each first-view page before its scripts (`context.addInitScript`): gives the overview's
 * first card heading (shown only with the data) an `elementtiming` name as it is inserted, before
 * it is painted, and keeps its paint time (Element Timing's `renderTime`: the presentation time of
 * the frame, as for the first contentful paint) in `window.__benchDataPaint`, in the page's clock.
 * The same for any client build, old or new, whatever the client marks itself.
 */
export const DATA_PAINT_PROBE = `(() => {
  new MutationObserver((_, observer) => {
    const heading = document.querySelector('.grid .card h2');
    if (!heading) return;
    heading.setAttribute('elementtiming', 'bench-first-data');
    observer.disconnect();
  }).observe(document, { subtree: true, childList: true });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.identifier === 'bench-first-data') window.__benchDataPaint = entry.renderTime;
    }
  }).observe({ type: 'element', buffered: true });
})();`;
