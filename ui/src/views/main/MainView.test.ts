import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { ConnectionView } from '../../lib/bindings';
import * as api from '../../test/api-mock';
import { offline, online, signedOut } from '../../test/fixtures';
import { stubShell } from '../../test/shell';
import MainView from './MainView.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));

const LAST = { hub: 'hub.example.com:7878', login: 'alice', remember: true, proxy: 'system' };

/** Renders the main view as the shell reports `current`. */
function start(current: ConnectionView) {
  const shell = stubShell();
  vi.mocked(api.currentConnection).mockResolvedValue(current);
  const view = render(MainView);
  return { shell, view };
}

describe('MainView', () => {
  it('shows the login form, filled with the last sign-in, when signed out', async () => {
    start(signedOut(LAST, 'Your saved sign-in has ended. Sign in again.'));
    expect(await screen.findByTestId('login-submit')).toBeInTheDocument();
    expect(screen.getByTestId('login-hub')).toHaveValue('hub.example.com:7878');
    expect(screen.getByTestId('login-login')).toHaveValue('alice');
    expect(screen.getByTestId('login-remember')).toBeChecked();
    expect(screen.getByTestId('login-notice')).toHaveTextContent('Your saved sign-in has ended. Sign in again.');
    expect(screen.queryByTestId('agent-name')).not.toBeInTheDocument();
  });

  it('shows that Huddle signs in by itself', async () => {
    start({ state: 'signing_in', hub: 'hub.example.com:7878', login: 'alice' });
    const signingIn = await screen.findByTestId('signing-in');
    expect(signingIn).toHaveTextContent('Signing in to hub.example.com:7878 as alice…');
    expect(signingIn).toHaveAttribute('role', 'status');
    expect(screen.queryByTestId('login-submit')).not.toBeInTheDocument();
  });

  it('shows the home screen when signed in', async () => {
    start(online());
    expect(await screen.findByTestId('agent-name')).toHaveTextContent('Alice Martin');
    expect(screen.queryByTestId('login-submit')).not.toBeInTheDocument();
  });

  it('follows connection events', async () => {
    const { shell, view } = start({ state: 'signing_in', hub: 'hub.example.com:7878', login: 'alice' });
    await screen.findByTestId('signing-in');

    shell.emitConnection(online());
    expect(await screen.findByTestId('agent-name')).toBeInTheDocument();

    shell.emitConnection(offline('Network unreachable'));
    expect(await screen.findByText('Offline — Network unreachable')).toBeInTheDocument();

    shell.emitConnection(signedOut(null, 'You were signed out: the session was revoked.'));
    expect(await screen.findByTestId('login-notice')).toHaveTextContent('the session was revoked');

    view.unmount();
    expect(shell.listeners().connection).toBe(0);
  });

  it('goes back to the login form, filled, after signing out', async () => {
    start(online());
    const user = userEvent.setup();
    await screen.findByTestId('agent-name');
    vi.mocked(api.currentConnection).mockResolvedValue(signedOut(LAST));

    await user.click(screen.getByTestId('main-menu'));
    await user.click(screen.getByTestId('sign-out'));

    expect(await screen.findByTestId('login-submit')).toBeInTheDocument();
    expect(screen.getByTestId('login-login')).toHaveValue('alice');
    await waitFor(() => expect(screen.getByTestId('login-password')).toHaveFocus());
  });

  it('falls back to the login form when the shell cannot answer', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    stubShell();
    vi.mocked(api.currentConnection).mockRejectedValue(new Error('no shell'));
    render(MainView);
    expect(await screen.findByTestId('login-submit')).toBeInTheDocument();
  });
});
