import { render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import * as api from '../../lib/api';
import type { ConnectionView } from '../../lib/bindings';
import { offline, online } from '../../test/fixtures';
import MainView from './MainView.svelte';

vi.mock('../../lib/api', () => ({
  login: vi.fn(),
  currentConnection: vi.fn(),
  signOut: vi.fn(),
  onConnection: vi.fn(),
}));

/** Renders the main view; returns a function that emits a `connection` event. */
function start(current: ConnectionView): { emit: (view: ConnectionView) => void; unlisten: () => void } {
  let listener: ((view: ConnectionView) => void) | undefined;
  const unlisten = vi.fn();
  vi.mocked(api.currentConnection).mockResolvedValue(current);
  vi.mocked(api.onConnection).mockImplementation((cb) => {
    listener = cb;
    return Promise.resolve(unlisten);
  });
  const { unmount } = render(MainView);
  return {
    emit: (view) => listener?.(view),
    unlisten: () => {
      unmount();
      expect(unlisten).toHaveBeenCalled();
    },
  };
}

describe('MainView', () => {
  it('shows the login form when signed out', async () => {
    start({ state: 'signed_out' });
    expect(await screen.findByTestId('login-submit')).toBeInTheDocument();
    expect(screen.queryByTestId('agent-name')).not.toBeInTheDocument();
  });

  it('shows the home screen when signed in', async () => {
    start(online());
    expect(await screen.findByTestId('agent-name')).toHaveTextContent('Alice Martin');
    expect(screen.queryByTestId('login-submit')).not.toBeInTheDocument();
  });

  it('follows connection events', async () => {
    const { emit, unlisten } = start(online());
    await screen.findByTestId('agent-name');

    emit(offline('Network unreachable'));
    expect(await screen.findByText('Offline — Network unreachable')).toBeInTheDocument();

    emit({ state: 'signed_out' });
    expect(await screen.findByTestId('login-submit')).toBeInTheDocument();

    unlisten();
  });

  it('falls back to the login form when the shell cannot answer', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.mocked(api.currentConnection).mockRejectedValue(new Error('no shell'));
    vi.mocked(api.onConnection).mockResolvedValue(() => {});
    render(MainView);
    expect(await screen.findByTestId('login-submit')).toBeInTheDocument();
  });
});
