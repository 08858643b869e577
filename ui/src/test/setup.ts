// Vitest setup: jest-dom matchers, DOM cleanup after each test, and what jsdom lacks.
import '@testing-library/jest-dom/vitest';
import '@testing-library/svelte/vitest';

// jsdom does no layout, so it has no scrolling either.
Element.prototype.scrollIntoView = function scrollIntoView(): void {};
