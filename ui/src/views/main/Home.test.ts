import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import * as api from '../../lib/api';
import { alice, offline, online } from '../../test/fixtures';
import Home from './Home.svelte';

vi.mock('../../lib/api', () => ({
  login: vi.fn(),
  currentConnection: vi.fn(),
  signOut: vi.fn(),
  onConnection: vi.fn(),
}));

describe('Home', () => {
  it('shows the agent and that the hub is connected', () => {
    render(Home, { props: { connection: online(), onSignedOut: () => {} } });

    expect(screen.getByTestId('agent-name')).toHaveTextContent('Alice Martin');
    const state = screen.getByTestId('connection-state');
    expect(state).toHaveTextContent('Connected to hub.example.com:7878');
    expect(state).toHaveAttribute('role', 'status');
    expect(screen.getByText(/You are signed in as/)).toHaveTextContent(
      'You are signed in as Alice Martin. Colleagues and conversations will appear here.',
    );
  });

  it('shows why the connection is offline', () => {
    render(Home, { props: { connection: offline('The hub closed the connection'), onSignedOut: () => {} } });

    expect(screen.getByRole('status')).toHaveTextContent('Offline — The hub closed the connection');
    expect(screen.getByTestId('agent-name')).toHaveTextContent('Alice Martin');
  });

  it('follows a change of connection', async () => {
    const view = render(Home, { props: { connection: online(), onSignedOut: () => {} } });
    await view.rerender({ connection: offline('Network unreachable') });
    expect(screen.getByTestId('connection-state')).toHaveTextContent('Offline — Network unreachable');
  });

  it('shows names from the network as text', () => {
    const name = '<img src=x onerror=alert(1)>';
    const { container } = render(Home, {
      props: { connection: offline('<b>gone</b>', { ...alice, display_name: name }), onSignedOut: () => {} },
    });

    expect(screen.getByTestId('agent-name')).toHaveTextContent(name);
    expect(screen.getByTestId('connection-state')).toHaveTextContent('Offline — <b>gone</b>');
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('b')).toBeNull();
  });

  it('signs out', async () => {
    vi.mocked(api.signOut).mockResolvedValue();
    const onSignedOut = vi.fn();
    const user = userEvent.setup();
    render(Home, { props: { connection: online(), onSignedOut } });

    await user.click(screen.getByTestId('sign-out'));

    expect(api.signOut).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(onSignedOut).toHaveBeenCalledTimes(1));
  });
});
