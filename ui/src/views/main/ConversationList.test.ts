import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { SessionView } from '../../lib/bindings';
import * as api from '../../test/api-mock';
import { bob, carol, dave, session } from '../../test/fixtures';
import { deferred, stubShell } from '../../test/shell';
import ConversationList from './ConversationList.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));

const NOW = Date.now();

function setup(sessions: SessionView[] = [], online = true) {
  const shell = stubShell();
  vi.mocked(api.listSessions).mockResolvedValue(sessions);
  const user = userEvent.setup();
  const view = render(ConversationList, { props: { online } });
  return { shell, user, view };
}

/** The rows shown, by session id. */
function ids(): (string | null)[] {
  return screen.queryAllByTestId('session-row').map((row) => row.getAttribute('data-session-id'));
}

function row(id: string): HTMLElement {
  const found = screen.getAllByTestId('session-row').find((r) => r.getAttribute('data-session-id') === id);
  if (found === undefined) throw new Error(`no row for ${id}`);
  return found;
}

describe('ConversationList', () => {
  it('lists the sessions in words, invitations first', async () => {
    setup([
      session('s-connected', bob, { kind: 'connected' }, { created_at: NOW - 1_000 }),
      session('s-inviting', dave, { kind: 'inviting' }, { created_at: NOW - 2_000 }),
      session(
        's-invited',
        carol,
        { kind: 'invited' },
        { created_at: NOW - 5_000, first_message: 'Can you take a call?' },
      ),
      session('s-draft', dave, { kind: 'not_connected' }, { created_at: NOW - 3_000, consultation: true }),
      session('s-ended', bob, { kind: 'ended', cause: 'ended_by_other' }),
    ]);

    await waitFor(() => expect(ids()).toEqual(['s-invited', 's-connected', 's-inviting', 's-draft']));
    expect(api.listSessions).toHaveBeenCalledTimes(1);
    expect(row('s-invited')).toHaveTextContent('Invitation from Carol Diaz');
    expect(row('s-invited')).toHaveTextContent('“Can you take a call?”');
    expect(row('s-invited')).toHaveClass('pending');
    expect(row('s-connected')).toHaveTextContent('Bob Stone');
    expect(row('s-connected')).toHaveTextContent('Connected');
    expect(row('s-connected')).not.toHaveClass('pending');
    expect(row('s-inviting')).toHaveTextContent('Inviting…');
    expect(row('s-draft')).toHaveTextContent('Not Connected');
    expect(row('s-draft')).toHaveTextContent('Consultation');
    expect(screen.getByText('1 invitation is waiting for your answer.')).toBeInTheDocument();
  });

  it('says so when there are no conversations', async () => {
    setup([]);
    expect(await screen.findByTestId('sessions-empty')).toHaveTextContent('No conversations');
  });

  it('follows session events: adds, replaces, and drops the ended ones', async () => {
    const { shell } = setup([session('s-1', bob, { kind: 'inviting' }, { created_at: NOW - 10_000 })]);
    await waitFor(() => expect(ids()).toEqual(['s-1']));

    shell.emitSession(session('s-2', dave, { kind: 'connected' }, { created_at: NOW }));
    await waitFor(() => expect(ids()).toEqual(['s-2', 's-1']));

    shell.emitSession(session('s-1', bob, { kind: 'connected' }, { created_at: NOW - 10_000 }));
    await waitFor(() => expect(row('s-1')).toHaveTextContent('Connected'));
    expect(row('s-1')).not.toHaveTextContent('Inviting…');
    expect(ids()).toEqual(['s-2', 's-1']);

    shell.emitSession(session('s-3', carol, { kind: 'invited' }, { created_at: NOW - 20_000 }));
    await waitFor(() => expect(ids()).toEqual(['s-3', 's-2', 's-1']));
    expect(row('s-3')).toHaveTextContent('Invitation from Carol Diaz');

    shell.emitSession(session('s-2', dave, { kind: 'ended', cause: 'ended_by_other' }, { created_at: NOW }));
    await waitFor(() => expect(ids()).toEqual(['s-3', 's-1']));

    shell.emitSession(session('s-9', dave, { kind: 'ended', cause: 'rejected' }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ids()).toEqual(['s-3', 's-1']);
  });

  it('keeps the news heard while the list was loading', async () => {
    const shell = stubShell();
    const answer = deferred<SessionView[]>();
    vi.mocked(api.listSessions).mockReturnValue(answer.promise);
    render(ConversationList, { props: { online: true } });
    await waitFor(() => expect(api.onSession).toHaveBeenCalled());

    shell.emitSession(session('s-1', bob, { kind: 'connected' }));
    answer.resolve([session('s-1', bob, { kind: 'inviting' })]);

    await waitFor(() => expect(ids()).toEqual(['s-1']));
    expect(row('s-1')).toHaveTextContent('Connected');
  });

  it('brings up a session with a click or Enter', async () => {
    const { user } = setup([
      session('s-1', bob, { kind: 'connected' }, { created_at: NOW }),
      session('s-2', carol, { kind: 'invited' }, { created_at: NOW - 1_000 }),
    ]);
    await waitFor(() => expect(ids()).toHaveLength(2));

    await user.click(row('s-1'));
    expect(api.showSession).toHaveBeenCalledWith('s-1');

    row('s-2').focus();
    await user.keyboard('{ArrowDown}');
    expect(row('s-1')).toHaveFocus();
    await user.keyboard('{ArrowUp}{Enter}');
    expect(api.showSession).toHaveBeenLastCalledWith('s-2');
  });

  it('says why a session could not be brought up', async () => {
    const { user } = setup([session('s-1', bob, { kind: 'connected' })]);
    vi.mocked(api.showSession).mockRejectedValue({ message: 'Huddle knows no such IM session.' });
    await waitFor(() => expect(ids()).toHaveLength(1));

    await user.click(row('s-1'));
    const failure = await screen.findByTestId('session-open-failure');
    expect(failure).toHaveAttribute('role', 'alert');
    expect(failure).toHaveTextContent('Huddle knows no such IM session.');
    await user.click(within(failure).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('session-open-failure')).not.toBeInTheDocument();
  });

  it('keeps what it has while offline, and loads again once online', async () => {
    const { view } = setup([session('s-1', bob, { kind: 'connected' })]);
    await waitFor(() => expect(ids()).toEqual(['s-1']));

    await view.rerender({ online: false });
    expect(ids()).toEqual(['s-1']);
    expect(screen.getByTestId('sessions-offline')).toBeInTheDocument();
    expect(api.listSessions).toHaveBeenCalledTimes(1);

    vi.mocked(api.listSessions).mockResolvedValue([session('s-2', carol, { kind: 'invited' })]);
    await view.rerender({ online: true });
    expect(api.listSessions).toHaveBeenCalledTimes(2);
    await waitFor(() => expect(ids()).toEqual(['s-2']));
    expect(screen.queryByTestId('sessions-offline')).not.toBeInTheDocument();
  });

  it('shows a list that could not be loaded, and tries again', async () => {
    stubShell();
    vi.mocked(api.listSessions).mockRejectedValueOnce({ message: 'Huddle cannot use its local data.' });
    const user = userEvent.setup();
    render(ConversationList, { props: { online: true } });

    const error = await screen.findByTestId('sessions-error');
    expect(error).toHaveTextContent('Huddle cannot use its local data.');
    await user.click(within(error).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('sessions-empty')).toBeInTheDocument();
  });

  it('lists the missed invitations last, until they are put away', async () => {
    const { shell, user } = setup([
      session('s-open', bob, { kind: 'connected' }, { created_at: NOW - 1_000 }),
      session(
        's-missed',
        carol,
        { kind: 'ended', cause: 'timed_out' },
        { created_at: NOW - 60_000, missed: true, first_message: 'Are you there?' },
      ),
    ]);
    await waitFor(() => expect(ids()).toEqual(['s-open', 's-missed']));
    expect(screen.getByTestId('missed-title')).toHaveTextContent('Missed (1)');
    expect(row('s-missed')).toHaveTextContent('Missed IM from Carol Diaz');
    expect(row('s-missed')).toHaveTextContent('Missed, timed out');
    expect(row('s-missed')).toHaveTextContent('“Are you there?”');

    // An invitation withdrawn before an answer joins them; an answered one that ends does not.
    shell.emitSession(
      session('s-2', dave, { kind: 'ended', cause: 'cancelled' }, { created_at: NOW - 5_000, missed: true }),
    );
    shell.emitSession(session('s-open', bob, { kind: 'ended', cause: 'ended_by_other' }));
    await waitFor(() => expect(ids()).toEqual(['s-2', 's-missed']));
    expect(row('s-2')).toHaveTextContent('Missed, withdrawn');

    await user.click(row('s-missed'));
    expect(api.showSession).toHaveBeenCalledWith('s-missed');

    vi.mocked(api.putAwayMissed).mockResolvedValue();
    await user.click(screen.getByTestId('missed-clear'));
    expect(api.putAwayMissed).toHaveBeenCalledWith(['s-2', 's-missed']);
    await waitFor(() => expect(ids()).toEqual([]));
    expect(await screen.findByTestId('sessions-empty')).toBeInTheDocument();
  });

  it('says why missed invitations could not be put away, and keeps them', async () => {
    const { user } = setup([
      session('s-missed', carol, { kind: 'ended', cause: 'cancelled' }, { missed: true }),
    ]);
    await waitFor(() => expect(ids()).toEqual(['s-missed']));
    vi.mocked(api.putAwayMissed).mockRejectedValue({ message: 'Huddle cannot use its local data.' });
    await user.click(screen.getByTestId('missed-clear'));
    expect(await screen.findByTestId('session-open-failure')).toHaveTextContent(
      'could not put the missed instant messages away: Huddle cannot use its local data.',
    );
    expect(ids()).toEqual(['s-missed']);
  });

  it('shows messages from the network as text', async () => {
    const stranger = { ...bob, display_name: '<img src=x>' };
    setup([session('s-1', stranger, { kind: 'invited' }, { first_message: '<b>hi</b>' })]);
    await waitFor(() => expect(ids()).toHaveLength(1));
    expect(row('s-1')).toHaveTextContent('Invitation from <img src=x>');
    expect(row('s-1')).toHaveTextContent('<b>hi</b>');
    expect(document.querySelector('img, b')).toBeNull();
  });
});

describe('ConversationList: announcements', () => {
  it('announces invitations, missed ones and connections as they come, not those listed at load', async () => {
    const { shell } = setup([session('s-old', carol, { kind: 'invited' })]);
    await waitFor(() => expect(ids()).toEqual(['s-old']));
    const live = screen.getByTestId('conversations-live');
    expect(live).toHaveAttribute('aria-live', 'polite');
    expect(live).toHaveTextContent(/^$/);

    shell.emitSession(session('s-new', bob, { kind: 'invited' }, { first_message: 'Got a minute?' }));
    await waitFor(() =>
      expect(live).toHaveTextContent('Instant message invitation from Bob Stone: Got a minute?'),
    );
    shell.emitSession(session('s-new', bob, { kind: 'connected' }));
    await waitFor(() => expect(live).toHaveTextContent('Connected with Bob Stone'));
    shell.emitSession(session('s-old', carol, { kind: 'ended', cause: 'timed_out' }, { missed: true }));
    await waitFor(() => expect(live).toHaveTextContent('Missed instant message from Carol Diaz'));
  });
});
