// Vitest setup: jest-dom matchers, and DOM cleanup after each test.
import '@testing-library/jest-dom/vitest';
import '@testing-library/svelte/vitest';
import { afterEach } from 'vitest';

afterEach(() => {
  localStorage.clear();
});
