// Readies the main window's web process for IM windows. On Linux they share it (see the shell's
// windows.rs), and its font cache: each font size and weight a page lays out for the first time
// costs that page about 17 ms on a modest PC, which made the first IM window of a run open
// some 150 ms later than the next ones.
import { mount, unmount } from 'svelte';
import { zoom } from './api';
import { ZOOM_DEFAULT, clampZoom } from './zoom';

/** Long enough for a window signed in at start-up to have shown itself first. */
const WARM_UP_AFTER_MS = 1000;

let warmed = false;

/** Lays out the parts of an IM window once, out of sight, at the IM text size, a second after
 * the call, when the window that called has painted and settled (once per run; later calls do
 * nothing). */
export function warmUpImWindows(): void {
  if (warmed) return;
  warmed = true;
  setTimeout(() => {
    layOutSpecimen().catch((error: unknown) => console.error('Cannot ready the IM windows:', error));
  }, WARM_UP_AFTER_MS);
}

async function layOutSpecimen(): Promise<void> {
  const percent = await zoom().catch(() => ZOOM_DEFAULT);
  const { default: Specimen } = await import('../views/im/Specimen.svelte');
  const host = document.createElement('div');
  document.body.append(host);
  const specimen = mount(Specimen, { target: host, props: { scale: clampZoom(percent) / 100 } });
  // Laying it out is what loads the fonts.
  void host.offsetHeight;
  await unmount(specimen);
  host.remove();
}
