// Reports when the page first painted and took input, the way Huddle's windows do
// (ui/src/lib/ready.ts): after the frame that paints it.
requestAnimationFrame(() => {
  setTimeout(() => {
    const interactive = performance.timeOrigin + performance.now();
    const paints = performance.getEntriesByType('paint');
    const first =
      paints.find((e) => e.name === 'first-contentful-paint') ?? paints.find((e) => e.name === 'first-paint');
    const firstPaint = first === undefined ? interactive : performance.timeOrigin + first.startTime;
    const marks = { navigation_start: performance.timeOrigin, first_paint: Math.min(firstPaint, interactive), interactive };
    window.__TAURI_INTERNALS__.invoke('ui_ready', { marks });
  }, 0);
});
