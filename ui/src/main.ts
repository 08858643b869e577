import './app.css';
import { mount, type Component } from 'svelte';
import { currentWindowKind, type WindowKind } from './lib/window';
import MainView from './views/main/MainView.svelte';

const views: Record<WindowKind, Component> = {
  main: MainView,
};

const target = document.getElementById('app');
if (target === null) throw new Error('index.html has no #app element');

export default mount(views[currentWindowKind()], { target });
