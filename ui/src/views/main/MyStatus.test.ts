import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { Presence } from '../../lib/bindings';
import * as api from '../../test/api-mock';
import { deferred, stubShell } from '../../test/shell';
import MyStatus from './MyStatus.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));

function setup(presence: Presence = 'ready', online = true) {
  stubShell();
  const user = userEvent.setup();
  const view = render(MyStatus, { props: { presence, online } });
  return { user, view, select: screen.getByTestId('my-status') };
}

describe('MyStatus', () => {
  it('shows the presence among the ones an agent may choose', () => {
    const { select } = setup('not_ready');
    expect(select).toHaveAccessibleName('My status');
    expect(select).toHaveValue('not_ready');
    expect(screen.getAllByRole('option').map((o) => o.textContent)).toEqual(['Ready', 'Not Ready', 'Busy', 'Away']);
  });

  it('sets the presence the agent picks', async () => {
    const { user, select, view } = setup();
    const answer = deferred<void>();
    vi.mocked(api.setPresence).mockReturnValue(answer.promise);

    await user.selectOptions(select, 'busy');
    expect(api.setPresence).toHaveBeenCalledWith('busy');
    expect(select).toHaveValue('busy');

    answer.resolve();
    await view.rerender({ presence: 'busy', online: true });
    expect(select).toHaveValue('busy');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('follows the presence the shell reports', async () => {
    const { select, view } = setup();
    await view.rerender({ presence: 'away', online: true });
    expect(select).toHaveValue('away');
  });

  it('shows why the presence did not change, and goes back to it', async () => {
    const { user, select } = setup('ready');
    vi.mocked(api.setPresence).mockRejectedValue({ message: 'Huddle is not connected to the hub right now.' });

    await user.selectOptions(select, 'away');

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Your status was not changed: Huddle is not connected to the hub right now.');
    await waitFor(() => expect(select).toHaveValue('ready'));
    expect(select).toHaveAccessibleDescription(/Your status was not changed/);

    await user.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('cannot change while offline', () => {
    const { select } = setup('busy', false);
    expect(select).toBeDisabled();
    expect(select).toHaveValue('busy');
  });
});
