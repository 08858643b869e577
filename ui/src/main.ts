import './app.css';
import { mount, type Component } from 'svelte';
import { SCRIPT_MARK, VIEW_MARK } from './lib/ready';
import { currentWindowKind, type WindowKind } from './lib/window';

performance.mark(SCRIPT_MARK);

// Each kind's view is its own chunk: an IM window, of which many may be open, parses only its own,
// and the toast, small and often shown, loads no more than it needs.
const views: Record<WindowKind, () => Promise<{ default: Component }>> = {
  main: () => import('./views/main/MainView.svelte'),
  im: () => import('./views/im/ImView.svelte'),
  toast: () => import('./views/toast/ToastView.svelte'),
};

const target = document.getElementById('app');
if (target === null) throw new Error('index.html has no #app element');

const { default: view } = await views[currentWindowKind()]();
performance.mark(VIEW_MARK);

export default mount(view, { target });
