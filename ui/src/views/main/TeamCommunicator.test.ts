import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DirectoryEntry, InteractionSummary, SessionView } from '../../lib/bindings';
import * as api from '../../test/api-mock';
import { bob, carol, colleague, dave, interaction, session } from '../../test/fixtures';
import { deferred, stubShell } from '../../test/shell';
import TeamCommunicator from './TeamCommunicator.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));

afterEach(() => {
  vi.useRealTimers();
});

function people(): DirectoryEntry[] {
  return [
    colleague(bob, { presence: 'ready', favorite: true, recent_at: 1_000 }),
    colleague(carol, { presence: 'busy', recent_at: 2_000 }),
    colleague(dave, { presence: 'offline' }),
  ];
}

function setup({
  online = true,
  directory = people(),
}: { online?: boolean; directory?: DirectoryEntry[] } = {}) {
  const shell = stubShell({ directory });
  const user = userEvent.setup();
  const view = render(TeamCommunicator, { props: { online } });
  return { shell, user, view, search: screen.getByTestId('tc-search') };
}

/** The rows shown, by login. */
function logins(): (string | null)[] {
  return screen.queryAllByTestId('tc-entry').map((row) => row.getAttribute('data-login'));
}

function row(login: string): HTMLElement {
  const found = screen.getAllByTestId('tc-entry').find((r) => r.getAttribute('data-login') === login);
  if (found === undefined) throw new Error(`no row for ${login}`);
  return found;
}

describe('TeamCommunicator', () => {
  it('lists everyone for an empty query, with presence, favorites and no groups', async () => {
    const group: DirectoryEntry = {
      ...colleague(dave),
      kind: 'group',
      id: 99,
      name: 'Billing',
      login: '',
      presence: null,
    };
    setup({ directory: [...people(), group] });

    await waitFor(() => expect(logins()).toEqual(['bob', 'carol', 'dave']));
    expect(api.searchDirectory).toHaveBeenCalledWith('', 'all');
    expect(row('bob')).toHaveAttribute('data-agent-id', '11');
    expect(within(row('bob')).getByText('Bob Stone')).toBeInTheDocument();
    expect(within(row('bob')).getByTestId('tc-presence')).toHaveTextContent('Ready');
    expect(within(row('carol')).getByTestId('tc-presence')).toHaveTextContent('Busy');
    expect(within(row('dave')).getByTestId('tc-presence')).toHaveTextContent('Offline');
    expect(within(row('bob')).getByTitle('Favorite')).toBeInTheDocument();
    expect(within(row('carol')).queryByTitle('Favorite')).not.toBeInTheDocument();
    expect(screen.getByRole('option', { name: 'Bob Stone, bob, Ready, favorite' })).toBe(row('bob'));
    expect(screen.getByText('3 colleagues')).toBeInTheDocument();
  });

  it('searches once typing pauses', async () => {
    vi.useFakeTimers();
    stubShell({ directory: people() });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    render(TeamCommunicator, { props: { online: true } });
    vi.mocked(api.searchDirectory).mockClear();

    await user.type(screen.getByTestId('tc-search'), 'car');
    await vi.advanceTimersByTimeAsync(149);
    expect(api.searchDirectory).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(1);
    expect(api.searchDirectory).toHaveBeenCalledTimes(1);
    expect(api.searchDirectory).toHaveBeenCalledWith('car', 'all');
    await vi.waitFor(() => expect(logins()).toEqual(['carol']));
  });

  it('shows only the answer to the latest search', async () => {
    const { user, search } = setup();
    await waitFor(() => expect(logins()).toHaveLength(3));
    const answers = new Map<string, ReturnType<typeof deferred<DirectoryEntry[]>>>();
    vi.mocked(api.searchDirectory).mockImplementation((query) => {
      const answer = deferred<DirectoryEntry[]>();
      answers.set(query, answer);
      return answer.promise;
    });

    await user.type(search, 'b');
    await waitFor(() => expect(answers.has('b')).toBe(true));
    await user.type(search, 'o');
    await waitFor(() => expect(answers.has('bo')).toBe(true));

    answers.get('bo')?.resolve([colleague(bob)]);
    await waitFor(() => expect(logins()).toEqual(['bob']));
    answers.get('b')?.resolve([colleague(bob), colleague(carol), colleague(dave)]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(logins()).toEqual(['bob']);
  });

  it('filters by favorites and recent contacts, newest first', async () => {
    const { user } = setup();
    await waitFor(() => expect(logins()).toHaveLength(3));
    const all = screen.getByTestId('tc-filter-all');
    const favorites = screen.getByTestId('tc-filter-favorites');
    const recent = screen.getByTestId('tc-filter-recent');
    expect(all).toHaveAttribute('aria-pressed', 'true');

    await user.click(favorites);
    expect(api.searchDirectory).toHaveBeenLastCalledWith('', 'favorites');
    expect(favorites).toHaveAttribute('aria-pressed', 'true');
    expect(all).toHaveAttribute('aria-pressed', 'false');
    await waitFor(() => expect(logins()).toEqual(['bob']));

    await user.click(recent);
    expect(api.searchDirectory).toHaveBeenLastCalledWith('', 'recent');
    await waitFor(() => expect(logins()).toEqual(['carol', 'bob']));

    await user.click(all);
    await waitFor(() => expect(logins()).toEqual(['bob', 'carol', 'dave']));
  });

  it('says plainly when nobody matches', async () => {
    const { user, search } = setup();
    await user.type(search, 'zed');
    expect(await screen.findByTestId('tc-empty')).toHaveTextContent('No one matches “zed”');
    expect(logins()).toEqual([]);

    await user.clear(search);
    await user.click(screen.getByTestId('tc-filter-favorites'));
    await waitFor(() => expect(logins()).toEqual(['bob']));
    await user.type(search, 'carol');
    expect(await screen.findByTestId('tc-empty')).toHaveTextContent('No one matches “carol” among your favorites');
  });

  it('says when there are no favorites yet', async () => {
    const { user } = setup({ directory: [colleague(carol)] });
    await user.click(screen.getByTestId('tc-filter-favorites'));
    expect(await screen.findByTestId('tc-empty')).toHaveTextContent('No favorites yet');
  });

  it('shows a failed search and tries again', async () => {
    const { user } = setup();
    vi.mocked(api.searchDirectory).mockRejectedValueOnce({ message: 'Too many requests at once.' });
    await user.click(screen.getByTestId('tc-filter-recent'));

    const error = await screen.findByTestId('tc-error');
    expect(error).toHaveAttribute('role', 'alert');
    expect(error).toHaveTextContent('Too many requests at once.');
    await user.click(within(error).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(logins()).toEqual(['carol', 'bob']));
    expect(screen.queryByTestId('tc-error')).not.toBeInTheDocument();
  });

  it('moves through the results with the arrow keys and opens the action menu with Enter', async () => {
    const { user, search } = setup();
    await waitFor(() => expect(logins()).toHaveLength(3));
    await user.click(search);
    expect(row('bob')).toHaveAttribute('aria-selected', 'true');
    expect(search).toHaveAttribute('aria-activedescendant', row('bob').id);

    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}');
    expect(row('dave')).toHaveAttribute('aria-selected', 'true');
    expect(row('bob')).toHaveAttribute('aria-selected', 'false');
    await user.keyboard('{ArrowUp}');
    expect(row('carol')).toHaveAttribute('aria-selected', 'true');
    expect(search).toHaveAttribute('aria-activedescendant', row('carol').id);
    expect(search).toHaveFocus();

    await user.keyboard('{Enter}');
    const menu = screen.getByTestId('tc-actions');
    expect(menu).toHaveAttribute('role', 'menu');
    expect(menu).toHaveAccessibleName('Actions for Carol Diaz');
    const im = screen.getByTestId('tc-action-im');
    expect(im).toHaveTextContent('Send an Instant Message Carol Diaz');
    expect(im).toHaveFocus();

    await user.keyboard('{ArrowDown}');
    expect(screen.getByTestId('tc-action-favorite')).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(im).toHaveFocus();
    await user.keyboard('{ArrowUp}');
    expect(screen.getByTestId('tc-action-favorite')).toHaveFocus();
  });

  it('closes the menu with Escape, then clears the search with a second Escape', async () => {
    const { user, search } = setup();
    await user.type(search, 'ca');
    await waitFor(() => expect(logins()).toEqual(['carol']));

    await user.keyboard('{Enter}');
    expect(screen.getByTestId('tc-actions')).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('tc-actions')).not.toBeInTheDocument();
    expect(search).toHaveFocus();
    expect(search).toHaveValue('ca');

    await user.keyboard('{Escape}');
    expect(search).toHaveValue('');
    expect(api.searchDirectory).toHaveBeenLastCalledWith('', 'all');
    await waitFor(() => expect(logins()).toHaveLength(3));
  });

  it('works from the list itself too', async () => {
    const { user } = setup();
    await waitFor(() => expect(logins()).toHaveLength(3));
    const list = screen.getByRole('listbox', { name: 'Colleagues' });
    list.focus();
    await user.keyboard('{End}');
    expect(list).toHaveAttribute('aria-activedescendant', row('dave').id);
    await user.keyboard('{Home}{ArrowDown}{Enter}');
    expect(screen.getByTestId('tc-actions')).toHaveAccessibleName('Actions for Carol Diaz');
    await user.keyboard('{Escape}');
    expect(list).toHaveFocus();
  });

  it('opens the action menu with a click and sends an instant message', async () => {
    const { user } = setup();
    await waitFor(() => expect(logins()).toHaveLength(3));
    vi.mocked(api.startIm).mockResolvedValue({} as never);

    await user.click(within(row('carol')).getByTitle('Actions'));
    await user.click(screen.getByRole('menuitem', { name: 'Send an Instant Message Carol Diaz' }));

    expect(api.startIm).toHaveBeenCalledTimes(1);
    expect(api.startIm).toHaveBeenCalledWith(12);
    await waitFor(() => expect(screen.queryByTestId('tc-actions')).not.toBeInTheDocument());
  });

  it('shows why an instant message could not start', async () => {
    const { user } = setup();
    await waitFor(() => expect(logins()).toHaveLength(3));
    vi.mocked(api.startIm).mockRejectedValue({ message: 'This colleague cannot receive instant messages.' });

    await user.click(row('dave'));
    await user.click(screen.getByTestId('tc-action-im'));

    expect(await screen.findByRole('alert')).toHaveTextContent('This colleague cannot receive instant messages.');
    expect(screen.getByTestId('tc-actions')).toBeInTheDocument();
    expect(api.startIm).toHaveBeenCalledWith(13);
  });

  it('adds and removes favorites, then shows the list again', async () => {
    const { user } = setup();
    await waitFor(() => expect(logins()).toHaveLength(3));

    await user.click(row('carol'));
    const add = screen.getByTestId('tc-action-favorite');
    expect(add).toHaveTextContent('Add to Favorites');
    const searches = vi.mocked(api.searchDirectory).mock.calls.length;
    await user.click(add);

    expect(api.setFavorite).toHaveBeenCalledWith(12, true);
    await waitFor(() => expect(within(row('carol')).getByTitle('Favorite')).toBeInTheDocument());
    expect(api.searchDirectory).toHaveBeenCalledTimes(searches + 1);
    expect(screen.queryByTestId('tc-actions')).not.toBeInTheDocument();

    await user.click(row('bob'));
    expect(screen.getByTestId('tc-action-favorite')).toHaveTextContent('Remove from Favorites');
    await user.click(screen.getByTestId('tc-action-favorite'));
    expect(api.setFavorite).toHaveBeenLastCalledWith(11, false);
    await waitFor(() => expect(within(row('bob')).queryByTitle('Favorite')).not.toBeInTheDocument());
  });

  it('keeps the menu open with the reason when a favorite cannot be saved', async () => {
    const { user } = setup();
    await waitFor(() => expect(logins()).toHaveLength(3));
    vi.mocked(api.setFavorite).mockRejectedValue({ message: 'Huddle is not connected to the hub right now.' });

    await user.click(row('carol'));
    await user.click(screen.getByTestId('tc-action-favorite'));

    expect(await screen.findByRole('alert')).toHaveTextContent('Huddle is not connected to the hub right now.');
    expect(screen.getByTestId('tc-action-favorite')).toHaveTextContent('Add to Favorites');
  });

  it('closes the action menu on a click elsewhere', async () => {
    const { user } = setup();
    await waitFor(() => expect(logins()).toHaveLength(3));
    await user.click(row('bob'));
    expect(screen.getByTestId('tc-actions')).toBeInTheDocument();

    await user.click(screen.getByRole('heading', { name: 'Team Communicator' }));
    expect(screen.queryByTestId('tc-actions')).not.toBeInTheDocument();
  });

  it('follows presence changes', async () => {
    const { shell } = setup();
    await waitFor(() => expect(logins()).toHaveLength(3));

    shell.emitPresence({ agent_id: 12, presence: 'away' });
    await waitFor(() => expect(within(row('carol')).getByTestId('tc-presence')).toHaveTextContent('Away'));
    expect(within(row('bob')).getByTestId('tc-presence')).toHaveTextContent('Ready');

    shell.emitPresence({ agent_id: 13, presence: 'not_ready' });
    await waitFor(() => expect(within(row('dave')).getByTestId('tc-presence')).toHaveTextContent('Not Ready'));
  });

  it('stops following presence when it goes away', async () => {
    const { shell, view } = setup();
    await waitFor(() => expect(shell.listeners().presence).toBe(1));
    view.unmount();
    expect(shell.listeners().presence).toBe(0);
  });

  it('says that search needs the connection, and searches again once it is back', async () => {
    const { user, search, view } = setup({ online: false });
    expect(screen.getByTestId('tc-offline')).toHaveTextContent('Search needs the connection to the hub');
    expect(search).toBeVisible();

    await user.type(search, 'bo');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(api.searchDirectory).not.toHaveBeenCalled();

    await view.rerender({ online: true });
    expect(api.searchDirectory).toHaveBeenCalledWith('bo', 'all');
    await waitFor(() => expect(logins()).toEqual(['bob']));
    expect(screen.queryByTestId('tc-offline')).not.toBeInTheDocument();

    await view.rerender({ online: false });
    expect(logins()).toEqual([]);
    expect(screen.getByTestId('tc-offline')).toBeInTheDocument();
  });

  it('shows names from the network as text', async () => {
    const name = '<img src=x onerror=alert(1)>';
    const { user } = setup({ directory: [colleague({ id: 5, login: '<b>x</b>', display_name: name })] });
    await waitFor(() => expect(logins()).toEqual(['<b>x</b>']));
    await user.click(screen.getByTestId('tc-entry'));

    expect(screen.getByTestId('tc-action-im')).toHaveTextContent(`Send an Instant Message ${name}`);
    expect(document.querySelector('img')).toBeNull();
    expect(document.querySelector('b')).toBeNull();
  });

  describe('in consultation mode', () => {
    function consulting() {
      const shell = stubShell({ directory: people() });
      const user = userEvent.setup();
      const onLeaveConsultation = vi.fn();
      const about = interaction('i-7', { media: 'email', contact: { id: 'c', name: 'Tom Becker' }, subject: 'Item arrived damaged' });
      const view = render(TeamCommunicator, { props: { online: true, consultation: about, onLeaveConsultation } });
      return { shell, user, view, onLeaveConsultation, search: screen.getByTestId('tc-search') };
    }

    it('says what the consultation is about, and offers it in the action menu', async () => {
      const { user, onLeaveConsultation } = consulting();
      expect(screen.getByTestId('consult-banner')).toHaveTextContent('Consult about Tom Becker — Item arrived damaged');
      expect(screen.getByText('Find the colleague to consult, then open their actions.')).toBeInTheDocument();
      await waitFor(() => expect(logins()).toHaveLength(3));

      await user.click(row('dave'));
      expect(screen.getByTestId('tc-action-consult')).toHaveTextContent('Start Instant Message Consultation');
      expect(screen.queryByTestId('tc-action-im')).not.toBeInTheDocument();
      await user.click(screen.getByTestId('tc-action-consult'));
      expect(api.startConsultation).toHaveBeenCalledWith('i-7', { id: 13, login: 'dave', name: 'Dave Okafor' });
      await waitFor(() => expect(onLeaveConsultation).toHaveBeenCalledTimes(1));
    });

    it('gives it up with Cancel, or with Escape in the search or the list, but not while a menu is open', async () => {
      const { user, search, onLeaveConsultation } = consulting();
      await waitFor(() => expect(logins()).toHaveLength(3));

      await user.click(screen.getByTestId('consult-cancel'));
      expect(onLeaveConsultation).toHaveBeenCalledTimes(1);

      await user.type(search, 'ca');
      await waitFor(() => expect(logins()).toEqual(['carol']));
      await user.keyboard('{Enter}');
      await user.keyboard('{Escape}');
      expect(screen.queryByTestId('tc-actions')).not.toBeInTheDocument();
      expect(onLeaveConsultation).toHaveBeenCalledTimes(1);

      await user.keyboard('{Escape}');
      expect(onLeaveConsultation).toHaveBeenCalledTimes(2);

      screen.getByRole('listbox', { name: 'Colleagues' }).focus();
      await user.keyboard('{Escape}');
      expect(onLeaveConsultation).toHaveBeenCalledTimes(3);
    });

    it('has no banner once it is over', async () => {
      const { view } = consulting();
      await view.rerender({ consultation: null });
      expect(screen.queryByTestId('consult-banner')).not.toBeInTheDocument();
      expect(screen.getByText('Find a colleague to send an instant message.')).toBeInTheDocument();
    });
  });
  describe('Active Consultations', () => {
    /** Alice's connected IM consultation with Carol about `about`, which she started. */
    function imConsultation(id = 's-carol', about = 'i-7', more: Partial<SessionView> = {}): SessionView {
      return {
        ...session(id, carol, { kind: 'connected' }, { consultation: true, i_invited: true }),
        interaction_id: about,
        ...more,
      };
    }

    function consulting({
      about = interaction('i-7'),
      sessions = [imConsultation()],
      consultation = about as InteractionSummary | null,
    }: { about?: InteractionSummary; sessions?: SessionView[]; consultation?: InteractionSummary | null } = {}) {
      const shell = stubShell({ directory: people(), sessions });
      const user = userEvent.setup();
      const onLeaveConsultation = vi.fn();
      const view = render(TeamCommunicator, {
        props: { online: true, consultation, sessions, onLeaveConsultation },
      });
      return { shell, user, view, onLeaveConsultation, search: screen.getByTestId('tc-search') };
    }

    function activeRows(): (string | null)[] {
      return screen.queryAllByTestId('tc-active-entry').map((r) => r.getAttribute('data-session-id'));
    }

    it('lists the connected IM consultation one started about the interaction, above the results', async () => {
      consulting();
      await waitFor(() => expect(logins()).toHaveLength(3));
      const section = screen.getByTestId('tc-active-consultations');
      expect(section).toHaveTextContent('Active Consultations');
      expect(activeRows()).toEqual(['s-carol']);
      expect(within(section).getByTestId('tc-active-entry')).toHaveTextContent('Carol Diaz');
      expect(section.compareDocumentPosition(screen.getByRole('listbox', { name: 'Colleagues' }))).toBe(
        Node.DOCUMENT_POSITION_FOLLOWING,
      );
    });

    it('shows only in consultation mode, and only for a connected consultation of one’s own about that interaction', async () => {
      const others = [
        imConsultation('s-other-interaction', 'i-8'),
        imConsultation('s-invited-me', 'i-7', { i_invited: false }),
        imConsultation('s-inviting', 'i-7', { status: { kind: 'inviting' } }),
        imConsultation('s-draft', 'i-7', { status: { kind: 'not_connected' } }),
        { ...session('s-plain', bob, { kind: 'connected' }), i_invited: true },
      ];
      const { view } = consulting({ sessions: others });
      await waitFor(() => expect(logins()).toHaveLength(3));
      expect(screen.queryByTestId('tc-active-consultations')).not.toBeInTheDocument();

      await view.rerender({ sessions: [...others, imConsultation()] });
      expect(activeRows()).toEqual(['s-carol']);

      await view.rerender({ consultation: null });
      expect(screen.queryByTestId('tc-active-consultations')).not.toBeInTheDocument();
    });

    it('is the default selection: Enter opens its menu', async () => {
      const { user, search } = consulting();
      await waitFor(() => expect(logins()).toHaveLength(3));
      const active = screen.getByTestId('tc-active-entry');
      expect(active).toHaveAttribute('aria-selected', 'true');
      expect(search).toHaveAttribute('aria-activedescendant', active.id);
      expect(screen.getAllByTestId('tc-entry').every((r) => r.getAttribute('aria-selected') === 'false')).toBe(true);

      await user.keyboard('{Enter}');
      const menu = screen.getByTestId('tc-actions');
      expect(menu).toHaveAccessibleName('Actions for Carol Diaz');
      expect(within(menu).getByTestId('tc-action-voice')).toHaveTextContent('Start Voice Consultation');
      expect(within(menu).getByTestId('tc-action-show-im')).toHaveTextContent('Show Instant Message Consultation');
      expect(within(menu).queryByTestId('tc-action-consult')).not.toBeInTheDocument();
    });

    it('stops being the selection once the agent types', async () => {
      const { user, search } = consulting();
      await waitFor(() => expect(logins()).toHaveLength(3));
      await user.type(search, 'dav');
      await waitFor(() => expect(logins()).toEqual(['dave']));
      expect(screen.getByTestId('tc-active-entry')).toHaveAttribute('aria-selected', 'false');
      expect(row('dave')).toHaveAttribute('aria-selected', 'true');

      await user.keyboard('{Enter}');
      expect(screen.getByTestId('tc-actions')).toHaveAccessibleName('Actions for Dave Okafor');
      expect(screen.getByTestId('tc-action-consult')).toBeInTheDocument();
    });

    it('stops being the selection once a filter is clicked', async () => {
      const { user, search } = consulting();
      await waitFor(() => expect(logins()).toHaveLength(3));
      await user.click(screen.getByTestId('tc-filter-favorites'));
      await waitFor(() => expect(logins()).toEqual(['bob']));
      expect(screen.getByTestId('tc-active-entry')).toHaveAttribute('aria-selected', 'false');
      expect(search).toHaveAttribute('aria-activedescendant', row('bob').id);

      // Clicking the filter already chosen gives the selection up too.
      await user.click(screen.getByTestId('tc-filter-favorites'));
      expect(screen.getByTestId('tc-active-entry')).toHaveAttribute('aria-selected', 'false');
    });

    it('moves into the results and back with the arrow keys', async () => {
      const { user, search } = consulting();
      await waitFor(() => expect(logins()).toHaveLength(3));
      search.focus();
      await user.keyboard('{ArrowDown}');
      expect(row('bob')).toHaveAttribute('aria-selected', 'true');
      await user.keyboard('{ArrowUp}');
      expect(screen.getByTestId('tc-active-entry')).toHaveAttribute('aria-selected', 'true');
    });

    it('starts a voice consultation from the IM one, then leaves consultation mode', async () => {
      const { user, onLeaveConsultation } = consulting();
      await waitFor(() => expect(logins()).toHaveLength(3));
      await user.click(screen.getByTestId('tc-active-entry'));
      await user.click(screen.getByTestId('tc-action-voice'));

      expect(api.startVoiceConsultation).toHaveBeenCalledWith('s-carol');
      expect(api.startConsultation).not.toHaveBeenCalled();
      await waitFor(() => expect(onLeaveConsultation).toHaveBeenCalledTimes(1));
      expect(screen.queryByTestId('tc-actions')).not.toBeInTheDocument();
    });

    it('says why a voice consultation could not start, and stays', async () => {
      const { user, onLeaveConsultation } = consulting();
      vi.mocked(api.startVoiceConsultation).mockRejectedValue({ message: 'Carol is on another call.' });
      await waitFor(() => expect(logins()).toHaveLength(3));
      await user.keyboard('{Enter}');
      await user.click(screen.getByTestId('tc-action-voice'));

      expect(await screen.findByTestId('tc-action-failure')).toHaveTextContent('Carol is on another call.');
      expect(screen.getByTestId('tc-actions')).toBeInTheDocument();
      expect(onLeaveConsultation).not.toHaveBeenCalled();
    });

    it('offers no voice consultation for an interaction that is not a call', async () => {
      const { user } = consulting({ about: interaction('i-7', { media: 'chat' }) });
      await waitFor(() => expect(logins()).toHaveLength(3));
      await user.click(screen.getByTestId('tc-active-entry'));
      const menu = screen.getByTestId('tc-actions');
      expect(within(menu).queryByTestId('tc-action-voice')).not.toBeInTheDocument();
      expect(within(menu).queryByText('Start Voice Consultation')).not.toBeInTheDocument();
      expect(within(menu).getByTestId('tc-action-show-im')).toBeInTheDocument();
      expect(api.startVoiceConsultation).not.toHaveBeenCalled();
    });

    it('shows the IM consultation', async () => {
      const { user, onLeaveConsultation } = consulting();
      await waitFor(() => expect(logins()).toHaveLength(3));
      await user.keyboard('{Enter}');
      await user.click(screen.getByTestId('tc-action-show-im'));

      expect(api.showSession).toHaveBeenCalledWith('s-carol');
      await waitFor(() => expect(screen.queryByTestId('tc-actions')).not.toBeInTheDocument());
      expect(api.startVoiceConsultation).not.toHaveBeenCalled();
      expect(onLeaveConsultation).not.toHaveBeenCalled();
    });
  });
});
