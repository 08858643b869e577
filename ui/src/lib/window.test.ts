import { clearMocks, mockWindows } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import { currentWindowKind, windowKindOf } from './window';

afterEach(() => clearMocks());

describe('currentWindowKind', () => {
  it('knows an IM window from its label, whatever the session id looks like', () => {
    mockWindows('im-6f1c2d3e-aaaa-4bbb-8ccc-123456789abc');
    expect(currentWindowKind()).toBe('im');
  });

  it('does not take a label that merely starts like an IM window for one', () => {
    mockWindows('imported-1');
    expect(currentWindowKind()).toBe('main');
  });

  it('knows the main window', () => {
    mockWindows('main');
    expect(currentWindowKind()).toBe('main');
  });

  it('knows the toast by its exact label', () => {
    mockWindows('toast');
    expect(currentWindowKind()).toBe('toast');
    expect(windowKindOf('toast-2')).toBe('main');
    expect(windowKindOf('toasted')).toBe('main');
  });
});
