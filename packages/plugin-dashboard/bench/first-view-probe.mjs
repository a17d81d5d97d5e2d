/**
 * Run in each first-view page before its scripts (`context.addInitScript`): gives the overview's
 * first card heading (shown only with the data) an `elementtiming` name as it is inserted, before
 * it is painted, and keeps its paint time (Element Timing's `renderTime`: the presentation time of
 * the frame, as for the first contentful paint) in `window.__benchDataPaint`, in the page's clock.
 * The same for any client build, old or new, whatever the client marks itself.
 */
export const DATA_PAINT_PROBE = `(() => {
  // Also watching attributes: a client that takes over server-rendered elements may drop the
  // name before the frame that paints them; named again, the heading's paint is still seen.
  const observer = new MutationObserver(() => {
    if (window.__benchDataPaint) return observer.disconnect();
    const heading = document.querySelector('.grid .card h2');
    if (heading && heading.getAttribute('elementtiming') !== 'bench-first-data') {
      heading.setAttribute('elementtiming', 'bench-first-data');
    }
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['elementtiming'] });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.identifier === 'bench-first-data' && !window.__benchDataPaint) {
        window.__benchDataPaint = entry.renderTime;
      }
    }
  }).observe({ type: 'element', buffered: true });
})();`;
