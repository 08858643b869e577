import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { MessageHitView, SessionView } from '../../lib/bindings';
import * as api from '../../test/api-mock';
import { alice, bob, carol, online, session } from '../../test/fixtures';
import { stubShell } from '../../test/shell';
import Home from './Home.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));

const DAY = 24 * 3600_000;

function hit(sessionId: string, colleague = bob, more: Partial<MessageHitView> = {}): MessageHitView {
  return {
    session_id: sessionId,
    colleague,
    ended: false,
    reveal: { message_id: `m-${sessionId}`, from: colleague.id, seq: 12 },
    mine: false,
    at: Date.now(),
    snippet: [
      { text: 'the ', hit: false },
      { text: 'refund', hit: true },
      { text: ' is through', hit: false },
    ],
    ...more,
  };
}

function setup(sessions: SessionView[] = []) {
  stubShell({ sessions });
  vi.mocked(api.listSessions).mockResolvedValue(sessions.filter((s) => s.status.kind !== 'ended'));
  const user = userEvent.setup();
  render(Home, { props: { connection: online(alice), onSignedOut: vi.fn() } });
  return { user };
}

describe('Search of every conversation', () => {
  it('opens with Ctrl+K, lists matches with their colleague, date and marked words, and Enter opens the first', async () => {
    const { user } = setup();
    vi.mocked(api.searchMessages).mockResolvedValue([hit('s-1'), hit('s-2', carol, { ended: true, mine: true })]);
    await user.keyboard('{Control>}k{/Control}');
    const field = await screen.findByTestId('search-field');
    expect(field).toHaveFocus();
    await user.type(field, 'refund');

    const hits = await screen.findAllByTestId('search-hit');
    expect(api.searchMessages).toHaveBeenLastCalledWith('refund');
    expect(hits.map((h) => within(h).getByTestId('search-hit-colleague').textContent)).toEqual([
      'Bob Stone',
      'Carol Diaz',
    ]);
    expect(within(hits[0] as HTMLElement).getByTestId('search-hit-when')).toHaveTextContent(/^Today, \d\d:\d\d$/);
    expect((hits[0] as HTMLElement).querySelector('mark')).toHaveTextContent('refund');
    expect(within(hits[1] as HTMLElement).getByTestId('search-hit-snippet')).toHaveTextContent('You: the refund is through');
    expect(screen.getByTestId('search-status')).toHaveTextContent('2 messages found');
    expect(field).toHaveAttribute('aria-activedescendant', 'search-hit-0');

    await user.keyboard('{ArrowDown}');
    expect(field).toHaveAttribute('aria-activedescendant', 'search-hit-1');
    await user.keyboard('{ArrowUp}{Enter}');
    expect(api.showMessage).toHaveBeenCalledWith('s-1', hit('s-1').reveal);
    await waitFor(() => expect(screen.queryByTestId('search-dialog')).not.toBeInTheDocument());
  });

  it('opens from the top bar, says when nothing matches, and Escape closes it', async () => {
    const { user } = setup();
    await user.click(screen.getByTestId('search-open'));
    await user.type(await screen.findByTestId('search-field'), 'nothing');
    await waitFor(() => expect(screen.getByTestId('search-status')).toHaveTextContent('No message matches “nothing”.'));
    await user.keyboard('{Escape}');
    expect(screen.getByTestId('search-field')).toHaveValue('');
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('search-dialog')).not.toBeInTheDocument();
    expect(screen.getByTestId('search-open')).toHaveFocus();
  });

  it('opens the first match of what was typed when Enter comes before the answer', async () => {
    const { user } = setup();
    vi.mocked(api.searchMessages).mockResolvedValue([hit('s-9')]);
    await user.keyboard('{Control>}f{/Control}');
    await user.type(await screen.findByTestId('search-field'), 'refund{Enter}');
    await waitFor(() => expect(api.showMessage).toHaveBeenCalledWith('s-9', hit('s-9').reveal));
  });

  it('says why a conversation cannot be opened, and stays open', async () => {
    const { user } = setup();
    vi.mocked(api.searchMessages).mockResolvedValue([hit('s-1')]);
    vi.mocked(api.showMessage).mockRejectedValue({ message: 'Huddle knows no such IM session.' });
    await user.keyboard('{Control>}k{/Control}');
    await user.type(await screen.findByTestId('search-field'), 'refund');
    await user.click(await screen.findByTestId('search-hit'));
    expect(await screen.findByTestId('search-open-failure')).toHaveTextContent('Huddle knows no such IM session.');
    expect(screen.getByTestId('search-dialog')).toBeInTheDocument();
  });
});

describe('History', () => {
  const ended = (id: string, other = bob, endedAgo = 0): SessionView =>
    session(id, other, { kind: 'ended', cause: 'ended_by_me' }, { ended_at: Date.now() - endedAgo, created_at: Date.now() - endedAgo - 60_000 });

  it('lists ended conversations by day, the latest first, filters by colleague, and opens one', async () => {
    const { user } = setup([
      session('s-open', bob, { kind: 'connected' }),
      ended('s-old', carol, 1 * DAY),
      ended('s-new', bob),
    ]);
    expect(await screen.findByTestId('session-row')).toHaveAttribute('data-session-id', 's-open');
    await user.click(screen.getByTestId('conversations-tab-history'));

    const list = await screen.findByTestId('history-list');
    expect(within(list).getAllByTestId('history-day').map((d) => d.textContent)).toEqual(['Today', 'Yesterday']);
    const ids = (): (string | null)[] =>
      within(list).queryAllByTestId('session-row').map((r) => r.getAttribute('data-session-id'));
    expect(ids()).toEqual(['s-new', 's-old']);

    await user.type(screen.getByTestId('history-filter'), 'carol');
    expect(ids()).toEqual(['s-old']);
    await user.click(within(list).getByTestId('session-row'));
    expect(api.showSession).toHaveBeenCalledWith('s-old');
  });

  it('adds a conversation as it ends', async () => {
    const { user } = setup();
    await user.click(screen.getByTestId('conversations-tab-history'));
    expect(await screen.findByTestId('history-empty')).toHaveTextContent('No ended conversations');
    const { emit } = { emit: vi.mocked(api.onSession).mock.calls.map(([cb]) => cb) };
    for (const cb of emit) cb(ended('s-just', bob));
    expect(await screen.findByTestId('history-list')).toHaveTextContent('Bob Stone');
  });
});
