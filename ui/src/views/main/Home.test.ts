import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { Preferences, SessionView } from '../../lib/bindings';
import * as api from '../../test/api-mock';
import {
  alice,
  bob,
  colleague,
  offline,
  online,
  session,
  type Offline,
  type Online,
} from '../../test/fixtures';
import { DEFAULT_PREFERENCES, stubShell } from '../../test/shell';
import Home from './Home.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));

function setup(
  connection: Online | Offline = online(),
  sessions: SessionView[] = [],
  preferences: Preferences = DEFAULT_PREFERENCES,
) {
  const shell = stubShell({ directory: [colleague(bob)], preferences });
  vi.mocked(api.listSessions).mockResolvedValue(sessions);
  const onSignedOut = vi.fn();
  const user = userEvent.setup();
  const view = render(Home, { props: { connection, onSignedOut } });
  return { shell, user, view, onSignedOut };
}

describe('Home', () => {
  it('shows the agent, the connection and My Status in the top bar', () => {
    setup(online(alice, 'hub.example.com:7878', 'away'));

    expect(screen.getByTestId('agent-name')).toHaveTextContent('Alice Martin');
    const state = screen.getByTestId('connection-state');
    expect(state).toHaveTextContent('Connected to hub.example.com:7878');
    expect(state).toHaveAttribute('role', 'status');
    expect(screen.getByTestId('my-status')).toHaveValue('away');
    expect(screen.getByTestId('main-menu')).toHaveAccessibleName('Main menu');
  });

  it('shows the Team Communicator and the conversations', async () => {
    setup(online(), [session('s-1', bob, { kind: 'connected' })]);

    expect(screen.getByRole('region', { name: 'Team Communicator' })).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Conversations' })).toBeInTheDocument();
    expect(await screen.findByTestId('tc-entry')).toHaveAttribute('data-login', 'bob');
    expect(await screen.findByTestId('session-row')).toHaveAttribute('data-session-id', 's-1');
  });

  it('shows why the connection is offline, and what still works', async () => {
    setup(offline('The hub closed the connection'), [session('s-1', bob, { kind: 'connected' })]);

    expect(screen.getByTestId('connection-state')).toHaveTextContent('Offline — The hub closed the connection');
    expect(screen.getByTestId('agent-name')).toHaveTextContent('Alice Martin');
    expect(screen.getByTestId('tc-offline')).toBeInTheDocument();
    expect(screen.getByTestId('my-status')).toBeDisabled();
    expect(await screen.findByTestId('session-row')).toBeInTheDocument();
    expect(api.searchDirectory).not.toHaveBeenCalled();
  });

  it('follows a change of connection', async () => {
    const { view } = setup();
    await view.rerender({ connection: offline('Network unreachable') });
    expect(screen.getByTestId('connection-state')).toHaveTextContent('Offline — Network unreachable');
    expect(screen.getByTestId('tc-offline')).toBeInTheDocument();

    await view.rerender({ connection: online() });
    expect(await screen.findByTestId('tc-entry')).toBeInTheDocument();
  });

  it('shows a notice until it is dismissed, and a new one again', async () => {
    const { user, view } = setup(online(alice, 'h:1', 'ready', 'The keychain cannot be used: locked.'));

    const notice = screen.getByTestId('home-notice');
    expect(notice).toHaveAttribute('role', 'status');
    expect(notice).toHaveTextContent('The keychain cannot be used: locked.');
    await user.click(screen.getByTestId('home-notice-dismiss'));
    expect(screen.queryByTestId('home-notice')).not.toBeInTheDocument();

    await view.rerender({ connection: offline('gone', alice, 'The keychain cannot be used: locked.') });
    expect(screen.queryByTestId('home-notice')).not.toBeInTheDocument();
    await view.rerender({ connection: online(alice, 'h:1', 'ready', 'Something else.') });
    expect(screen.getByTestId('home-notice')).toHaveTextContent('Something else.');
  });

  it('signs out from the main menu', async () => {
    const { user, onSignedOut } = setup();
    await user.click(screen.getByTestId('main-menu'));
    await user.click(screen.getByTestId('sign-out'));

    expect(api.signOut).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(onSignedOut).toHaveBeenCalledTimes(1));
  });

  it('says when signing out failed', async () => {
    const { user, onSignedOut } = setup();
    vi.mocked(api.signOut).mockRejectedValue('command sign_out not allowed');
    await user.click(screen.getByTestId('main-menu'));
    await user.click(screen.getByTestId('sign-out'));

    const error = await screen.findByTestId('sign-out-error');
    expect(error).toHaveTextContent('Could not sign out: command sign_out not allowed');
    expect(onSignedOut).not.toHaveBeenCalled();
    await user.click(within(error).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('sign-out-error')).not.toBeInTheDocument();
  });

  it('shows Do not disturb in the top bar while it is on', async () => {
    const { shell, user } = setup(online(), [], { ...DEFAULT_PREFERENCES, do_not_disturb: true });
    const pill = await screen.findByTestId('dnd-indicator');
    expect(pill).toHaveTextContent('Do not disturb');
    expect(pill).toHaveAttribute('title', expect.stringContaining('without a pop-up or sound'));

    shell.emitPreferences(DEFAULT_PREFERENCES);
    await waitFor(() => expect(screen.queryByTestId('dnd-indicator')).not.toBeInTheDocument());

    await user.click(screen.getByTestId('main-menu'));
    await user.click(screen.getByTestId('pref-dnd'));
    expect(await screen.findByTestId('dnd-indicator')).toBeInTheDocument();
    expect(api.setPreferences).toHaveBeenLastCalledWith({ ...DEFAULT_PREFERENCES, do_not_disturb: true });
  });

  it("says when the system's do-not-disturb holds invitations back, and when it stops", async () => {
    const { shell } = setup(online(), [], { ...DEFAULT_PREFERENCES, system_do_not_disturb: true });
    const pill = await screen.findByTestId('dnd-indicator');
    expect(pill).toHaveTextContent('Do not disturb (system)');
    expect(pill).toHaveAttribute('data-source', 'system');
    expect(pill).toHaveAttribute('title', expect.stringContaining('Your computer is in do not disturb'));

    shell.emitPreferences(DEFAULT_PREFERENCES);
    await waitFor(() => expect(screen.queryByTestId('dnd-indicator')).not.toBeInTheDocument());
  });

  it('shows no Do not disturb while it is off', async () => {
    setup();
    await waitFor(() => expect(api.preferences).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(screen.queryByTestId('dnd-indicator')).not.toBeInTheDocument();
  });

  it('shows names from the network as text', () => {
    const name = '<img src=x onerror=alert(1)>';
    const { view } = setup(offline('<b>gone</b>', { ...alice, display_name: name }, '<i>note</i>'));

    expect(screen.getByTestId('agent-name')).toHaveTextContent(name);
    expect(screen.getByTestId('connection-state')).toHaveTextContent('Offline — <b>gone</b>');
    expect(screen.getByTestId('home-notice')).toHaveTextContent('<i>note</i>');
    expect(view.container.querySelector('img, b, i')).toBeNull();
  });
});
