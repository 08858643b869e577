import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { flushSync } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import * as api from '../../lib/api';
import type { EndCauseView, ImWindowView, CachedMessage, MessageHitView, RevealView, SessionView } from '../../lib/bindings';
import { bob, me, message, session } from './fixtures';
import ImView from './ImView.svelte';

vi.mock('../../lib/api', () => ({
  imState: vi.fn(),
  imEarlier: vi.fn(),
  imBetween: vi.fn(),
  imFind: vi.fn(),
  onReveal: vi.fn(),
  revealAtOpen: vi.fn(() => null),
  imSend: vi.fn(),
  imAccept: vi.fn(),
  imReject: vi.fn(),
  imEnd: vi.fn(),
  imDone: vi.fn(),
  imConsultation: vi.fn(),
  imContactHistory: vi.fn(),
  imStartVoice: vi.fn(),
  imAnswerVoice: vi.fn(),
  imEndVoice: vi.fn(),
  onSession: vi.fn(),
  onMessage: vi.fn(),
  onVoice: vi.fn(),
  onZoom: vi.fn(),
  setZoom: vi.fn(),
  zoom: vi.fn(),
  uiReady: vi.fn(() => Promise.resolve()),
}));

type Shell = {
  reveal: (target: RevealView) => void;
  session: (next: SessionView) => void;
  message: (next: CachedMessage) => void;
  zoom: (percent: number) => void;
  stopped: () => number;
  unmount: () => void;
};

/** Renders an IM window over a mocked shell; returns what emits the shell's events. */
function open(state: Partial<ImWindowView> | Promise<ImWindowView> = {}): Shell {
  const listeners: {
    session?: (next: SessionView) => void;
    message?: (next: CachedMessage) => void;
    zoom?: (percent: number) => void;
    reveal?: (target: RevealView) => void;
  } = {};
  const stop = vi.fn();
  vi.mocked(api.onSession).mockImplementation((cb) => {
    listeners.session = cb;
    return Promise.resolve(stop);
  });
  vi.mocked(api.onMessage).mockImplementation((cb) => {
    listeners.message = cb;
    return Promise.resolve(stop);
  });
  vi.mocked(api.onZoom).mockImplementation((cb) => {
    listeners.zoom = cb;
    return Promise.resolve(stop);
  });
  vi.mocked(api.onVoice).mockResolvedValue(stop);
  vi.mocked(api.onReveal).mockImplementation((cb) => {
    listeners.reveal = cb;
    return Promise.resolve(stop);
  });
  if (state instanceof Promise) vi.mocked(api.imState).mockReturnValue(state);
  else vi.mocked(api.imState).mockResolvedValue({ session: session(), messages: [], has_earlier: false, zoom: 100, spell_check: true, voice: null, ...state });
  const { unmount } = render(ImView);
  return {
    reveal: (target) => listeners.reveal?.(target),
    session: (next) => flushSync(() => listeners.session?.(next)),
    message: (next) => flushSync(() => listeners.message?.(next)),
    zoom: (percent) => flushSync(() => listeners.zoom?.(percent)),
    stopped: () => stop.mock.calls.length,
    unmount,
  };
}

const entries = (): HTMLElement[] => screen.queryAllByTestId('im-entry');
const texts = (): string[] => entries().map((e) => within(e).getByTestId('im-entry-text').textContent ?? '');

async function opened(state: Partial<ImWindowView> = {}): Promise<Shell> {
  const shell = open(state);
  await screen.findByTestId('im-title');
  return shell;
}

describe('ImView: a long transcript', () => {
  const range = (from: number, to: number): CachedMessage[] =>
    Array.from({ length: to - from + 1 }, (_, i) => message(from + i, `text ${from + i}`));

  it('opens with its end and reads earlier pages back, without calling them new', async () => {
    vi.mocked(api.imEarlier).mockImplementation((before) =>
      Promise.resolve(
        before === 101
          ? { messages: range(51, 100), has_earlier: true }
          : { messages: range(1, 50), has_earlier: false },
      ),
    );
    await opened({ messages: range(101, 150), has_earlier: true });
    // The view shows nothing above the first message yet, so it asks for more at once.
    await waitFor(() => expect(api.imEarlier).toHaveBeenCalledTimes(2));
    expect(vi.mocked(api.imEarlier).mock.calls.map(([before]) => before)).toEqual([101, 51]);
    await waitFor(() => expect(screen.queryByTestId('im-earlier')).not.toBeInTheDocument());
    expect(texts()).toEqual(range(1, 150).map((m) => m.text));
    expect(screen.queryByTestId('im-new-marker')).not.toBeInTheDocument();
  });

  it('says it reads earlier messages, and tries again after a failure', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    let answer: (page: { messages: CachedMessage[]; has_earlier: boolean }) => void = () => {};
    vi.mocked(api.imEarlier)
      .mockRejectedValueOnce({ message: 'Huddle cannot read this transcript.' })
      .mockImplementation(() => new Promise((resolve) => (answer = resolve)));
    await opened({ messages: range(11, 20), has_earlier: true });
    await waitFor(() => expect(error).toHaveBeenCalled());
    // Not again by itself: the agent's next scroll asks.
    expect(api.imEarlier).toHaveBeenCalledTimes(1);
    await fireEvent.scroll(screen.getByTestId('im-transcript'));
    await waitFor(() => expect(api.imEarlier).toHaveBeenCalledTimes(2));
    expect(screen.getByTestId('im-earlier')).toHaveTextContent('Loading earlier messages');
    answer({ messages: range(1, 10), has_earlier: false });
    await waitFor(() => expect(texts()[0]).toBe('text 1'));
    expect(screen.queryByTestId('im-earlier')).not.toBeInTheDocument();
  });
});

describe('ImView: finding messages', () => {
  const range = (from: number, to: number): CachedMessage[] =>
    Array.from({ length: to - from + 1 }, (_, i) =>
      from + i === 100 ? message(100, 'the needle', { id: 'needle' }) : message(from + i, `text ${from + i}`),
    );
  const revealedText = (): string | null | undefined =>
    document.querySelector('[data-revealed]')?.querySelector('[data-testid=im-entry-text]')?.textContent;

  it('shows a message thousands back, highlighted, after reading the messages between', async () => {
    vi.mocked(api.imEarlier).mockResolvedValue({ messages: [], has_earlier: true });
    vi.mocked(api.imBetween).mockImplementation((from, before) =>
      Promise.resolve({ messages: range(from, before - 1), has_earlier: from > 1 }),
    );
    const shell = await opened({ messages: range(5001, 5100), has_earlier: true });
    shell.reveal({ message_id: 'needle', from: bob.id, seq: 100 });
    await waitFor(() => expect(revealedText()).toBe('the needle'));
    // Twenty messages before it come too, so that it does not open at the edge.
    expect(api.imBetween).toHaveBeenCalledWith(80, 5001);
  });

  it('shows the message a new window was opened for once it is loaded', async () => {
    vi.mocked(api.revealAtOpen).mockReturnValueOnce({ message_id: 'needle', from: bob.id, seq: 100 });
    await opened({ messages: range(90, 110), has_earlier: true });
    await waitFor(() => expect(revealedText()).toBe('the needle'));
    expect(api.imBetween).not.toHaveBeenCalled();
  });

  it('finds in the transcript with Ctrl+F, newest match first, Enter going back', async () => {
    const hit = (m: CachedMessage): MessageHitView => ({
      session_id: m.session_id,
      colleague: bob,
      ended: false,
      reveal: { message_id: m.id, from: m.from, seq: m.seq },
      mine: false,
      at: m.at,
      snippet: [{ text: m.text, hit: true }],
    });
    const messages = [message(1, 'refund one'), message(2, 'other'), message(3, 'refund two')];
    vi.mocked(api.imFind).mockImplementation((query) =>
      Promise.resolve(query === 'refund' ? [hit(messages[2] as CachedMessage), hit(messages[0] as CachedMessage)] : []),
    );
    await opened({ messages });
    await userEvent.keyboard('{Control>}f{/Control}');
    const field = await screen.findByTestId('im-find-field');
    expect(field).toHaveFocus();
    await userEvent.type(field, 'refund{Enter}');
    await waitFor(() => expect(screen.getByTestId('im-find-status')).toHaveTextContent('1 of 2'));
    await waitFor(() => expect(revealedText()).toBe('refund two'));
    await userEvent.keyboard('{Enter}');
    expect(screen.getByTestId('im-find-status')).toHaveTextContent('2 of 2');
    await waitFor(() => expect(revealedText()).toBe('refund one'));
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByTestId('im-find')).not.toBeInTheDocument();
    expect(document.querySelector('[data-revealed]')).toBeNull();
  });
});

describe('ImView: loading', () => {
  it('shows a quiet skeleton, then the session', async () => {
    open();
    expect(screen.getByTestId('im-loading')).toHaveAttribute('aria-busy', 'true');
    expect(await screen.findByTestId('im-title')).toHaveTextContent('Bob Stone');
    expect(screen.queryByTestId('im-loading')).not.toBeInTheDocument();
  });

  it('says in plain words why the session cannot be shown, and tries again', async () => {
    vi.mocked(api.onSession).mockResolvedValue(() => {});
    vi.mocked(api.onMessage).mockResolvedValue(() => {});
    vi.mocked(api.onZoom).mockResolvedValue(() => {});
    vi.mocked(api.onVoice).mockResolvedValue(() => {});
    vi.mocked(api.onReveal).mockResolvedValue(() => {});
    vi.mocked(api.imState).mockRejectedValueOnce({ message: 'Huddle knows no such IM session.' });
    render(ImView);

    const failed = await screen.findByTestId('im-load-error');
    expect(failed).toHaveTextContent('Huddle knows no such IM session.');
    expect(within(failed).getByRole('alert')).toBeInTheDocument();

    vi.mocked(api.imState).mockResolvedValueOnce({ session: session(), messages: [], has_earlier: false, zoom: 100, spell_check: true, voice: null });
    await userEvent.click(screen.getByTestId('im-retry'));
    expect(await screen.findByTestId('im-title')).toHaveTextContent('Bob Stone');
  });

  it('stops listening when closed', async () => {
    const shell = await opened();
    shell.unmount();
    expect(shell.stopped()).toBe(5);
  });
});

describe('ImView: transcript', () => {
  it('shows each entry with its time, then the name, then the text', async () => {
    const at = new Date(2025, 2, 4, 9, 5).getTime();
    await opened({
      messages: [
        message(1, 'Hi Alice', { at }),
        message(2, 'Hello Bob', { from: me.id, at: at + 60_000 }),
        message(3, 'Can you take a call?', { at: at + 120_000 }),
      ],
    });

    const shown = entries();
    expect(shown).toHaveLength(3);
    expect(shown.map((e) => e.dataset['from'])).toEqual([String(bob.id), String(me.id), String(bob.id)]);
    expect(shown.map((e) => within(e).getByTestId('im-entry-name').textContent)).toEqual([
      'Bob Stone',
      'Alice Martin',
      'Bob Stone',
    ]);
    for (const entry of shown) {
      const name = within(entry).getByTestId('im-entry-name');
      const text = within(entry).getByTestId('im-entry-text');
      expect(name.compareDocumentPosition(text) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
      const time = within(entry).getByTestId('im-entry-time');
      expect(time.textContent).toMatch(/^\d\d:\d\d$/);
      expect(time.getAttribute('title')).toMatch(/2025/);
    }
    expect(within(shown[0] as HTMLElement).getByTestId('im-entry-time')).toHaveTextContent('09:05');
    expect(screen.getByTestId('im-transcript')).toHaveAttribute('role', 'log');
  });

  it('keeps the name of grouped follow-ups in every entry', async () => {
    const at = Date.now();
    await opened({ messages: [message(1, 'one', { at }), message(2, 'two', { at: at + 1000 })] });
    const second = entries()[1] as HTMLElement;
    expect(within(second).getByTestId('im-entry-name')).toHaveTextContent('Bob Stone');
    expect(within(second).getByTestId('im-entry-time')).toBeInTheDocument();
  });

  it('separates days', async () => {
    const today = new Date();
    const at = (daysAgo: number): number =>
      new Date(today.getFullYear(), today.getMonth(), today.getDate() - daysAgo, 12).getTime();
    await opened({
      messages: [message(1, 'old', { at: at(9) }), message(2, 'yesterday', { at: at(1) }), message(3, 'now', { at: at(0) })],
    });

    const days = screen.getAllByTestId('im-day').map((d) => d.textContent);
    expect(days).toHaveLength(3);
    expect(days[0]).not.toMatch(/Today|Yesterday/);
    expect(days.slice(1)).toEqual(['Yesterday', 'Today']);
  });

  it('orders by seq with pending messages last, and replaces an entry by id', async () => {
    const shell = await opened({
      messages: [message(1, 'first'), message(null, 'mine, pending', { id: 'p', from: me.id })],
    });
    expect(texts()).toEqual(['first', 'mine, pending']);

    shell.message(message(3, 'third'));
    shell.message(message(2, 'second'));
    expect(texts()).toEqual(['first', 'second', 'third', 'mine, pending']);
    expect(entries()[3]).toHaveAttribute('data-delivery', 'pending');
    expect(entries()[3]).toHaveTextContent('Sending…');

    shell.message(message(4, 'mine, pending', { id: 'p', from: me.id }));
    expect(texts()).toEqual(['first', 'second', 'third', 'mine, pending']);
    expect(entries()[3]).toHaveAttribute('data-delivery', 'sent');
    expect(entries()[3]).not.toHaveTextContent('Sending…');
  });

  it('shows why a message failed', async () => {
    await opened({
      messages: [message(null, 'too much', { from: me.id, delivery: 'failed', failure: 'The message is too long.' })],
    });
    const entry = entries()[0] as HTMLElement;
    expect(entry).toHaveAttribute('data-delivery', 'failed');
    expect(within(entry).getByTestId('im-entry-failure')).toHaveTextContent('Not sent: The message is too long.');
  });

  it('shows markup and scripts as the text they are', async () => {
    const payloads = ['<img src=x onerror=alert(1)>', '<script>alert(1)</script>', '<b>bold</b>\n<a href="x">link</a>'];
    const shell = await opened({ messages: [message(1, payloads[0] as string)] });
    shell.message(message(2, payloads[1] as string));
    shell.message(message(3, payloads[2] as string));

    expect(texts()).toEqual(payloads);
    const transcript = screen.getByTestId('im-transcript');
    expect(transcript.querySelector('img, script, b, a')).toBeNull();
  });

  it('ignores events of other sessions', async () => {
    const shell = await opened({ messages: [message(1, 'ours')] });
    shell.message(message(2, 'theirs', { session_id: 'other' }));
    shell.session(session({ kind: 'ended', cause: 'ended_by_other' }, { id: 'other' }));
    expect(texts()).toEqual(['ours']);
    expect(screen.getByTestId('im-status')).toHaveTextContent('Connected');
  });

  it('applies the events that came while the state was loading', async () => {
    let resolve: (view: ImWindowView) => void = () => {};
    const shell = open(new Promise<ImWindowView>((r) => (resolve = r)));
    await Promise.resolve();
    shell.message(message(2, 'early'));
    shell.message(message(9, 'elsewhere', { session_id: 'other' }));
    shell.session(session({ kind: 'ended', cause: 'ended_by_other' }));
    resolve({ session: session(), messages: [message(1, 'loaded')], has_earlier: false, zoom: 100, spell_check: true, voice: null });

    await screen.findByTestId('im-title');
    expect(texts()).toEqual(['loaded', 'early']);
    expect(screen.getByTestId('im-status')).toHaveTextContent('Ended — Bob Stone ended the session');
  });
});

describe('ImView: status and actions', () => {
  it('shows the status of each state, and why a session ended', async () => {
    const shell = await opened({ session: session({ kind: 'not_connected' }) });
    const status = screen.getByTestId('im-status');
    expect(status).toHaveAttribute('role', 'status');
    expect(status).toHaveTextContent('Not Connected');

    shell.session(session({ kind: 'inviting' }));
    expect(status).toHaveTextContent('Inviting Bob Stone…');
    shell.session(session({ kind: 'invited' }, { i_invited: false }));
    expect(status).toHaveTextContent('Bob Stone invites you');
    shell.session(session({ kind: 'connected' }));
    expect(status).toHaveTextContent('Connected');

    const causes: [EndCauseView, boolean, string][] = [
      ['ended_by_me', true, 'Ended — you ended the session'],
      ['ended_by_other', true, 'Ended — Bob Stone ended the session'],
      ['rejected', true, 'Ended — Bob Stone rejected the invitation'],
      ['rejected_by_me', false, 'Ended — you rejected the invitation'],
      ['timed_out', true, 'Ended — Bob Stone did not answer in time'],
      ['timed_out', false, 'Ended — the invitation timed out'],
      ['cancelled', false, 'Ended — Bob Stone cancelled the invitation'],
      ['cancelled_by_me', true, 'Ended — you cancelled the invitation'],
    ];
    for (const [cause, iInvited, text] of causes) {
      shell.session(session({ kind: 'ended', cause }, { i_invited: iInvited }));
      expect(status).toHaveTextContent(text);
    }
  });

  it('offers Accept, focused, and Reject for an invitation, with its first message', async () => {
    vi.mocked(api.imAccept).mockResolvedValue();
    const user = userEvent.setup();
    await opened({
      session: session({ kind: 'invited' }, { i_invited: false, first_message: 'Got a minute? <b>urgent</b>' }),
    });

    const panel = screen.getByTestId('im-invitation');
    expect(panel).toHaveTextContent('Bob Stone invites you to chat');
    expect(within(panel).getByTestId('im-invitation-message')).toHaveTextContent('Got a minute? <b>urgent</b>');
    expect(screen.getByTestId('im-accept')).toHaveFocus();
    expect(screen.getByTestId('im-input')).toBeDisabled();

    await user.keyboard('{Enter}');
    expect(api.imAccept).toHaveBeenCalledTimes(1);
    expect(api.imReject).not.toHaveBeenCalled();
  });

  it('rejects an invitation, and shows why when it cannot', async () => {
    vi.mocked(api.imReject).mockRejectedValue({ message: 'The hub is unreachable.' });
    const shell = await opened({ session: session({ kind: 'invited' }, { i_invited: false }) });

    await userEvent.click(screen.getByTestId('im-reject'));
    expect(api.imReject).toHaveBeenCalledTimes(1);
    expect(await screen.findByTestId('im-action-error')).toHaveTextContent('The hub is unreachable.');

    shell.session(session({ kind: 'ended', cause: 'rejected_by_me' }, { i_invited: false }));
    expect(screen.queryByTestId('im-invitation')).not.toBeInTheDocument();
  });

  it('moves to the message field once the invitation is accepted', async () => {
    vi.mocked(api.imAccept).mockResolvedValue();
    const shell = await opened({ session: session({ kind: 'invited' }, { i_invited: false }) });
    await userEvent.click(screen.getByTestId('im-accept'));
    screen.getByTestId('im-accept').blur();

    shell.session(session({ kind: 'connected' }, { i_invited: false }));
    await waitFor(() => expect(screen.getByTestId('im-input')).toHaveFocus());
    expect(screen.getByTestId('im-input')).toBeEnabled();
  });

  it('ends a connected session, and cancels an invitation', async () => {
    vi.mocked(api.imEnd).mockResolvedValue();
    const shell = await opened();
    const end = screen.getByTestId('im-end');
    expect(end).toHaveTextContent('End Session');
    expect(end).toBeEnabled();
    await userEvent.click(end);
    expect(api.imEnd).toHaveBeenCalledTimes(1);

    shell.session(session({ kind: 'inviting' }));
    expect(end).toHaveTextContent('Cancel invitation');
    expect(end).toBeEnabled();

    shell.session(session({ kind: 'invited' }, { i_invited: false }));
    expect(end).toBeDisabled();
  });

  it('disables writing and ending once the session has ended, but not Done', async () => {
    vi.mocked(api.imDone).mockResolvedValue();
    await opened({ session: session({ kind: 'ended', cause: 'ended_by_other' }) });

    const input = screen.getByTestId('im-input');
    expect(input).toBeDisabled();
    expect(input).toHaveAttribute('placeholder', 'This session has ended');
    expect(screen.getByTestId('im-send')).toBeDisabled();
    expect(screen.getByTestId('im-end')).toBeDisabled();

    await userEvent.click(screen.getByTestId('im-done'));
    expect(api.imDone).toHaveBeenCalledTimes(1);
  });

  it('says why Done could not close the window', async () => {
    vi.mocked(api.imDone).mockRejectedValue({ message: 'Huddle cannot close this window.' });
    await opened();
    await userEvent.click(screen.getByTestId('im-done'));
    expect(await screen.findByTestId('im-action-error')).toHaveTextContent('Huddle cannot close this window.');
    expect(screen.getByTestId('im-done')).toBeEnabled();
  });

  it('says who it is waiting for while inviting', async () => {
    await opened({ session: session({ kind: 'inviting' }) });
    expect(screen.getByTestId('im-input')).toBeDisabled();
    expect(screen.getByTestId('im-input')).toHaveAttribute('placeholder', 'Waiting for Bob Stone to accept…');
  });
});

describe('ImView: a missed instant message', () => {
  /** 16:52 today, local time. */
  const at = new Date(new Date().setHours(16, 52, 0, 0)).getTime();

  it('says that the inviter withdrew the invitation, with who, when and the first message', async () => {
    vi.mocked(api.imDone).mockResolvedValue();
    await opened({
      session: session(
        { kind: 'ended', cause: 'cancelled' },
        { i_invited: false, missed: true, created_at: at, first_message: 'Can you check ticket 4411?' },
      ),
    });

    const missed = screen.getByTestId('im-missed');
    expect(missed).toHaveAccessibleName('Missed instant message');
    expect(missed).toHaveAccessibleDescription('Bob Stone withdrew the invitation.');
    expect(within(missed).getByTestId('im-missed-from')).toHaveTextContent('Bob Stone');
    const time = within(missed).getByTestId('im-missed-time');
    expect(time).toHaveTextContent('Today at 16:52');
    expect(time).toHaveAttribute('datetime', new Date(at).toISOString());
    expect(within(missed).getByTestId('im-missed-reason')).toHaveTextContent('Bob Stone withdrew the invitation.');
    expect(within(missed).getByTestId('im-missed-message')).toHaveTextContent('Can you check ticket 4411?');
    expect(screen.queryByTestId('im-transcript')).not.toBeInTheDocument();

    const input = screen.getByTestId('im-input');
    expect(input).toBeDisabled();
    expect(input).toHaveAttribute('placeholder', 'This invitation is no longer open');
    expect(screen.getByTestId('im-send')).toBeDisabled();
    expect(screen.getByTestId('im-end')).toBeDisabled();

    await userEvent.click(screen.getByTestId('im-done'));
    expect(api.imDone).toHaveBeenCalledTimes(1);
  });

  it('says that the invitation timed out, without a message when none came', async () => {
    await opened({
      session: session({ kind: 'ended', cause: 'timed_out' }, { i_invited: false, missed: true, created_at: at }),
    });

    const missed = screen.getByTestId('im-missed');
    expect(missed).toHaveTextContent('Missed instant message');
    expect(within(missed).getByTestId('im-missed-reason')).toHaveTextContent('The invitation timed out.');
    expect(within(missed).getByTestId('im-missed-from')).toHaveTextContent('Bob Stone');
    expect(within(missed).getByTestId('im-missed-time')).toHaveTextContent('Today at 16:52');
    expect(within(missed).queryByTestId('im-missed-message')).not.toBeInTheDocument();
    expect(screen.getByTestId('im-input')).toBeDisabled();
    expect(screen.getByTestId('im-done')).toBeEnabled();
  });

  it('replaces the invitation when it is withdrawn while the window is open', async () => {
    const shell = await opened({
      session: session({ kind: 'invited' }, { i_invited: false, consultation: true, first_message: '<b>help</b>' }),
    });
    expect(screen.getByTestId('im-accept')).toHaveFocus();

    shell.session(
      session(
        { kind: 'ended', cause: 'cancelled' },
        { i_invited: false, missed: true, consultation: true, first_message: '<b>help</b>' },
      ),
    );
    expect(screen.queryByTestId('im-invitation')).not.toBeInTheDocument();
    const missed = screen.getByTestId('im-missed');
    expect(missed).toHaveFocus();
    expect(missed).toHaveTextContent('IM consultation');
    expect(within(missed).getByTestId('im-missed-message')).toHaveTextContent('<b>help</b>');
    expect(missed.querySelector('b')).toBeNull();
  });

  it('is not shown for what this agent ended, rejected or sent', async () => {
    const shell = await opened({ session: session({ kind: 'ended', cause: 'rejected_by_me' }, { i_invited: false }) });
    expect(screen.queryByTestId('im-missed')).not.toBeInTheDocument();
    shell.session(session({ kind: 'ended', cause: 'timed_out' }, { i_invited: true }));
    expect(screen.queryByTestId('im-missed')).not.toBeInTheDocument();
    expect(screen.getByTestId('im-empty')).toHaveTextContent('No messages were exchanged.');
    shell.session(session({ kind: 'ended', cause: 'ended_by_other' }, { i_invited: false }));
    expect(screen.queryByTestId('im-missed')).not.toBeInTheDocument();
  });
});

describe('ImView: sending', () => {
  it('sends with Enter, shows the message pending, then sent', async () => {
    const pending = message(null, 'On my way', { id: 'mine', from: me.id });
    vi.mocked(api.imSend).mockResolvedValue(pending);
    const shell = await opened({ messages: [message(1, 'Are you there?')] });
    const input = screen.getByTestId('im-input');
    expect(input).toHaveFocus();
    expect(input).toBeEnabled();
    expect(screen.getByTestId('im-send')).toBeEnabled();

    await userEvent.type(input, 'On my way{Enter}');
    expect(api.imSend).toHaveBeenCalledWith('On my way');
    await waitFor(() => expect(input).toHaveValue(''));
    expect(entries()[1]).toHaveAttribute('data-delivery', 'pending');

    shell.message({ ...pending, seq: 2, delivery: 'sent' });
    expect(entries()).toHaveLength(2);
    expect(entries()[1]).toHaveAttribute('data-delivery', 'sent');
  });

  it('keeps the text and shows the failure when sending fails', async () => {
    vi.mocked(api.imSend).mockRejectedValue({ message: 'This session has ended.' });
    await opened();
    const input = screen.getByTestId('im-input');

    await userEvent.type(input, 'Still there?');
    await userEvent.click(screen.getByTestId('im-send'));

    expect(await screen.findByTestId('im-error')).toHaveTextContent('This session has ended.');
    expect(screen.getByTestId('im-error')).toHaveAttribute('role', 'alert');
    expect(input).toHaveValue('Still there?');
  });
});

describe('ImView: live region', () => {
  it('announces messages from the other agent and status changes, not the past or my own', async () => {
    const shell = await opened({ messages: [message(1, 'old news')] });
    const live = screen.getByTestId('im-live');
    expect(live).toHaveAttribute('aria-live', 'polite');
    expect(live.textContent?.trim()).toBe('');

    shell.message(message(2, 'Can you help with a refund?', { id: 'refund' }));
    expect(live).toHaveTextContent('Bob Stone: Can you help with a refund?');

    shell.message(message(3, 'Sure', { from: me.id }));
    shell.message(message(2, 'Can you help with a refund?', { id: 'refund', text: 'edited' }));
    expect(live).not.toHaveTextContent('Sure');
    expect(live).not.toHaveTextContent('edited');

    shell.session(session({ kind: 'ended', cause: 'ended_by_other' }));
    expect(live).toHaveTextContent('Ended — Bob Stone ended the session');
  });
});

describe('ImView: zoom', () => {
  const scale = (): string => screen.getByTestId('im-view').style.getPropertyValue('--im-scale');

  it('starts at the stored size and follows the shell', async () => {
    const shell = await opened({ zoom: 120 });
    expect(scale()).toBe('1.2');
    shell.zoom(150);
    expect(scale()).toBe('1.5');
  });

  it('changes the size with Ctrl+=, Ctrl+- and Ctrl+0, within 70 and 200', async () => {
    vi.mocked(api.setZoom).mockImplementation((percent) => Promise.resolve(percent));
    const user = userEvent.setup();
    await opened({ zoom: 190 });

    await user.keyboard('{Control>}={/Control}');
    expect(api.setZoom).toHaveBeenLastCalledWith(200);
    expect(scale()).toBe('2');

    await user.keyboard('{Control>}={/Control}');
    expect(api.setZoom).toHaveBeenCalledTimes(1);

    await user.keyboard('{Control>}-{/Control}');
    expect(api.setZoom).toHaveBeenLastCalledWith(190);

    await user.keyboard('{Control>}0{/Control}');
    expect(api.setZoom).toHaveBeenLastCalledWith(100);
    expect(scale()).toBe('1');
  });
});

describe('ImView: scrolling', () => {
  /** Gives the transcript the layout jsdom lacks; returns its scroll position. */
  function layOut(height: { scroll: number; client: number }): { top: () => number; scrollTo: (top: number) => void } {
    const transcript = screen.getByTestId('im-transcript');
    let top = 0;
    Object.defineProperty(transcript, 'scrollHeight', { configurable: true, get: () => height.scroll });
    Object.defineProperty(transcript, 'clientHeight', { configurable: true, get: () => height.client });
    Object.defineProperty(transcript, 'scrollTop', {
      configurable: true,
      get: () => top,
      set: (value: number) => (top = Math.max(0, Math.min(value, height.scroll - height.client))),
    });
    return {
      top: () => top,
      scrollTo: (value) => {
        transcript.scrollTop = value;
        fireEvent.scroll(transcript);
      },
    };
  }

  it('follows new messages while at the bottom', async () => {
    const shell = await opened({ messages: [message(1, 'one')] });
    const height = { scroll: 1000, client: 300 };
    const view = layOut(height);
    view.scrollTo(700);

    height.scroll = 1100;
    shell.message(message(2, 'two'));
    expect(view.top()).toBe(800);
    expect(screen.queryByTestId('im-new-marker')).not.toBeInTheDocument();
  });

  it('offers "New messages" when scrolled up, and goes down with it', async () => {
    const shell = await opened({ messages: [message(1, 'one')] });
    const height = { scroll: 1000, client: 300 };
    const view = layOut(height);
    view.scrollTo(700);
    view.scrollTo(200);

    height.scroll = 1100;
    shell.message(message(2, 'two'));
    expect(view.top()).toBe(200);
    const marker = screen.getByTestId('im-new-marker');
    expect(marker).toHaveTextContent('New messages ↓');

    await userEvent.click(marker);
    expect(view.top()).toBe(800);
    expect(screen.queryByTestId('im-new-marker')).not.toBeInTheDocument();
    expect(screen.getByTestId('im-transcript')).toHaveFocus();
  });

  it('drops the marker when the agent scrolls down by themselves', async () => {
    const shell = await opened({ messages: [message(1, 'one')] });
    const view = layOut({ scroll: 1000, client: 300 });
    view.scrollTo(0);
    shell.message(message(2, 'two'));
    expect(screen.getByTestId('im-new-marker')).toBeInTheDocument();

    view.scrollTo(690);
    await waitFor(() => expect(screen.queryByTestId('im-new-marker')).not.toBeInTheDocument());
  });

  it('goes to the bottom for what the agent sends, even when scrolled up', async () => {
    vi.mocked(api.imSend).mockResolvedValue(message(null, 'mine', { from: me.id }));
    await opened({ messages: [message(1, 'one')] });
    const view = layOut({ scroll: 1000, client: 300 });
    view.scrollTo(700);
    view.scrollTo(100);

    await userEvent.type(screen.getByTestId('im-input'), 'mine{Enter}');
    await waitFor(() => expect(view.top()).toBe(700));
    expect(screen.queryByTestId('im-new-marker')).not.toBeInTheDocument();
  });

  it('renders only the rows near the end of a long transcript, at once', async () => {
    const start = new Date(2025, 0, 1).getTime();
    const long = Array.from({ length: 10_000 }, (_, i) =>
      message(i + 1, `message ${i + 1}`, { at: start + i * 90_000, from: i % 3 === 0 ? me.id : bob.id }),
    );
    const shell = await opened({ messages: long });

    const shown = texts();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(100);
    expect(shown.at(-1)).toBe('message 10000');

    shell.message(message(10_001, 'one more'));
    expect(texts().at(-1)).toBe('one more');
    expect(texts().length).toBeLessThan(100);
  });
});
