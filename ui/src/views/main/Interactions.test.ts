// My Interactions and the Team Communicator's consultation mode, as the main window shows them.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InteractionSummary } from '../../lib/bindings';
import * as api from '../../test/api-mock';
import { bob, carol, colleague, interaction, offline, online, session } from '../../test/fixtures';
import { deferred, stubShell } from '../../test/shell';
import Home from './Home.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));

afterEach(() => {
  vi.useRealTimers();
});

function setup(interactions: InteractionSummary[] = [interaction('i-1')]) {
  const shell = stubShell({ directory: [colleague(bob), colleague(carol)], interactions });
  const user = userEvent.setup();
  const view = render(Home, { props: { connection: online(), onSignedOut: vi.fn() } });
  return { shell, user, view };
}

/** The rows shown, by interaction id. */
function ids(): (string | null)[] {
  return screen.queryAllByTestId('interaction-row').map((row) => row.getAttribute('data-interaction-id'));
}

function row(id: string): HTMLElement {
  const found = screen.getAllByTestId('interaction-row').find((r) => r.getAttribute('data-interaction-id') === id);
  if (found === undefined) throw new Error(`no row for ${id}`);
  return found;
}

/** Opens the interaction's view from its row. */
async function openView(user: ReturnType<typeof userEvent.setup>, id: string): Promise<HTMLElement> {
  await waitFor(() => expect(ids()).toContain(id));
  await user.click(row(id));
  return screen.getByTestId('interaction-view');
}

/** Starts consultation mode about the interaction, from its view. */
async function consultAbout(user: ReturnType<typeof userEvent.setup>, id: string): Promise<void> {
  await openView(user, id);
  await user.click(screen.getByTestId('start-consultation'));
}

/** Opens a colleague's action menu in the Team Communicator. */
async function openMenu(user: ReturnType<typeof userEvent.setup>, login: string): Promise<HTMLElement> {
  await waitFor(() => expect(screen.getAllByTestId('tc-entry').length).toBeGreaterThan(0));
  const entry = screen.getAllByTestId('tc-entry').find((r) => r.getAttribute('data-login') === login);
  if (entry === undefined) throw new Error(`no colleague ${login}`);
  await user.click(entry);
  return screen.getByTestId('tc-actions');
}

describe('My Interactions', () => {
  it('lists the interactions from the shell, with media, contact, subject, state and time', async () => {
    setup([
      interaction('i-1', { started_at: Date.now() - 4 * 60_000 - 7_000 }),
      interaction('i-2', {
        media: 'email',
        state: 'held',
        contact: { id: 'c-2', name: 'Tom Becker' },
        subject: 'Item arrived damaged',
      }),
      interaction('i-3', { media: 'chat', state: 'ringing', contact: { id: 'c-3', name: 'Aiko Tanaka' } }),
      interaction('i-4', { state: 'ended' }),
    ]);

    expect(screen.getByRole('region', { name: 'My Interactions' })).toBeInTheDocument();
    await waitFor(() => expect(ids()).toEqual(['i-1', 'i-2', 'i-3']));
    expect(api.interactions).toHaveBeenCalledTimes(1);

    const first = row('i-1');
    expect(within(first).getByTestId('media-icon')).toHaveAttribute('data-media', 'voice');
    expect(within(first).getByTestId('media-icon')).toHaveAccessibleName('Voice call');
    expect(within(first).getByTestId('interaction-contact')).toHaveTextContent('Maria Souza');
    expect(within(first).getByTestId('interaction-subject')).toHaveTextContent('Where is my order?');
    expect(within(first).getByTestId('interaction-state')).toHaveTextContent('Active');
    expect(within(first).getByTestId('interaction-elapsed').textContent).toMatch(/^04:0[78]$/);
    expect(first).toHaveAccessibleName(/Maria Souza, Voice call, Where is my order\?, Active, for 4 minutes/);

    expect(within(row('i-2')).getByTestId('media-icon')).toHaveAttribute('data-media', 'email');
    expect(within(row('i-2')).getByTestId('interaction-state')).toHaveTextContent('On hold');
    expect(within(row('i-3')).getByTestId('media-icon')).toHaveAttribute('data-media', 'chat');
    expect(within(row('i-3')).getByTestId('interaction-state')).toHaveTextContent('Ringing');
    expect(screen.getByText('1 customer is waiting for you.')).toBeInTheDocument();
  });

  it('says so when there are none', async () => {
    setup([]);
    expect(await screen.findByTestId('interactions-empty')).toHaveTextContent('No customer interactions right now.');
    expect(ids()).toEqual([]);
  });

  it('follows the shell: adds, replaces by id, and drops the ended ones', async () => {
    const { shell } = setup([interaction('i-1')]);
    await waitFor(() => expect(ids()).toEqual(['i-1']));

    shell.emitInteraction(interaction('i-2', { media: 'chat', subject: 'Refund status' }));
    await waitFor(() => expect(ids()).toEqual(['i-1', 'i-2']));

    shell.emitInteraction(interaction('i-1', { state: 'held' }));
    await waitFor(() => expect(within(row('i-1')).getByTestId('interaction-state')).toHaveTextContent('On hold'));
    expect(ids()).toEqual(['i-1', 'i-2']);

    shell.emitInteraction(interaction('i-1', { state: 'ended', ended_at: Date.now() }));
    await waitFor(() => expect(ids()).toEqual(['i-2']));

    shell.emitInteraction(interaction('i-9', { state: 'ended' }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ids()).toEqual(['i-2']);

    shell.emitInteraction(interaction('i-2', { state: 'ended' }));
    expect(await screen.findByTestId('interactions-empty')).toBeInTheDocument();
  });

  it('keeps the news heard while the list was loading', async () => {
    const shell = stubShell();
    const answer = deferred<InteractionSummary[]>();
    vi.mocked(api.interactions).mockReturnValue(answer.promise);
    render(Home, { props: { connection: online(), onSignedOut: vi.fn() } });
    await waitFor(() => expect(api.onInteraction).toHaveBeenCalled());

    shell.emitInteraction(interaction('i-1', { state: 'ended' }));
    shell.emitInteraction(interaction('i-2', { state: 'held' }));
    answer.resolve([interaction('i-1'), interaction('i-2')]);

    await waitFor(() => expect(ids()).toEqual(['i-2']));
    expect(within(row('i-2')).getByTestId('interaction-state')).toHaveTextContent('On hold');
  });

  it('loads again whenever the connection comes back', async () => {
    const { view } = setup([interaction('i-1')]);
    await waitFor(() => expect(ids()).toEqual(['i-1']));

    await view.rerender({ connection: offline('Network unreachable') });
    expect(ids()).toEqual(['i-1']);
    expect(screen.getByTestId('interactions-offline')).toBeInTheDocument();
    expect(api.interactions).toHaveBeenCalledTimes(1);

    vi.mocked(api.interactions).mockResolvedValue([interaction('i-5', { subject: 'Refund status' })]);
    await view.rerender({ connection: online() });
    expect(api.interactions).toHaveBeenCalledTimes(2);
    await waitFor(() => expect(ids()).toEqual(['i-5']));
    expect(screen.queryByTestId('interactions-offline')).not.toBeInTheDocument();
  });

  it('shows a list that could not be loaded, and tries again', async () => {
    stubShell({ interactions: [interaction('i-1')] });
    vi.mocked(api.interactions).mockRejectedValueOnce({ message: 'Huddle is not connected to the hub right now.' });
    const user = userEvent.setup();
    render(Home, { props: { connection: online(), onSignedOut: vi.fn() } });

    const error = await screen.findByTestId('interactions-error');
    expect(error).toHaveAttribute('role', 'alert');
    expect(error).toHaveTextContent('Huddle is not connected to the hub right now.');
    await user.click(within(error).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(ids()).toEqual(['i-1']));
    expect(screen.queryByTestId('interactions-error')).not.toBeInTheDocument();
  });

  it('counts the time since each interaction started, live', async () => {
    vi.useFakeTimers({ now: new Date(2026, 2, 4, 10, 0, 0) });
    setup([interaction('i-1', { started_at: Date.now() - 65_000 })]);
    await vi.waitFor(() => expect(ids()).toEqual(['i-1']));
    const time = (): string | null => within(row('i-1')).getByTestId('interaction-elapsed').textContent;
    expect(time()).toBe('01:05');

    await vi.advanceTimersByTimeAsync(3_000);
    expect(time()).toBe('01:08');

    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(time()).toBe('1 h 01 min');
  });

  it('moves between rows with the arrow keys', async () => {
    const { user } = setup([interaction('i-1'), interaction('i-2'), interaction('i-3')]);
    await waitFor(() => expect(ids()).toHaveLength(3));
    row('i-1').focus();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(row('i-3')).toHaveFocus();
    await user.keyboard('{ArrowUp}');
    expect(row('i-2')).toHaveFocus();
  });
});

describe('The interaction view', () => {
  it('shows the contact, media, subject and case data, read-only', async () => {
    const { user } = setup([interaction('i-1'), interaction('i-2')]);
    const view = await openView(user, 'i-1');

    expect(view).toHaveAttribute('data-interaction-id', 'i-1');
    expect(within(view).getByTestId('interaction-contact')).toHaveTextContent('Maria Souza');
    expect(within(view).getByTestId('interaction-media')).toHaveTextContent('Voice call');
    expect(within(view).getByTestId('interaction-subject')).toHaveTextContent('Where is my order?');
    expect(within(view).getByTestId('interaction-state')).toHaveTextContent('Active');

    const caseData = within(view).getByTestId('case-data');
    const items = within(caseData).getAllByTestId('case-datum');
    expect(items.map((item) => [item.querySelector('dt')?.textContent, item.querySelector('dd')?.textContent])).toEqual([
      ['Customer segment', 'Gold'],
      ['Order', '5521'],
      ['Reason', 'Delivery delay'],
    ]);
    expect(view.querySelector('input, textarea, select, [contenteditable]')).toBeNull();
    expect(within(view).getByTestId('start-consultation')).toHaveTextContent('Start Consultation');
    expect(screen.queryAllByTestId('interaction-row')).toHaveLength(0);
  });

  it('shows what the systems sent as text', async () => {
    const payload = '<img src=x onerror=alert(1)>';
    const { user } = setup([
      interaction('i-1', {
        contact: { id: 'c-1', name: '<b>Eve</b>' },
        subject: '<i>urgent</i>',
        case_data: [{ key: 'note', label: '<u>Note</u>', value: payload }],
      }),
    ]);
    const view = await openView(user, 'i-1');

    expect(within(view).getByTestId('interaction-contact')).toHaveTextContent('<b>Eve</b>');
    expect(within(view).getByTestId('interaction-subject')).toHaveTextContent('<i>urgent</i>');
    const item = within(view).getByTestId('case-datum');
    expect(item).toHaveTextContent('<u>Note</u>');
    expect(item).toHaveTextContent(payload);
    expect(document.querySelector('img, b, i, u')).toBeNull();
  });

  it('follows changes to the interaction, and goes back to the list', async () => {
    const { shell, user } = setup([interaction('i-1'), interaction('i-2')]);
    const view = await openView(user, 'i-2');

    shell.emitInteraction(interaction('i-2', { state: 'held' }));
    await waitFor(() => expect(within(view).getByTestId('interaction-state')).toHaveTextContent('On hold'));

    await user.click(screen.getByTestId('interaction-back'));
    expect(screen.queryByTestId('interaction-view')).not.toBeInTheDocument();
    expect(ids()).toEqual(['i-1', 'i-2']);
    expect(row('i-2')).toHaveFocus();
  });

  it('closes, saying so, when the interaction ends', async () => {
    const { shell, user } = setup([interaction('i-1'), interaction('i-2')]);
    await openView(user, 'i-1');

    shell.emitInteraction(interaction('i-1', { state: 'ended' }));
    await waitFor(() => expect(screen.queryByTestId('interaction-view')).not.toBeInTheDocument());
    expect(screen.getByTestId('interaction-ended')).toHaveTextContent('The interaction with Maria Souza has ended.');
    expect(ids()).toEqual(['i-2']);
  });
});

describe('Consultation mode of the Team Communicator', () => {
  it('shows the connected IM consultation about the interaction under Active Consultations, read once with Conversations', async () => {
    const { shell, user } = setup();
    await waitFor(() => expect(api.listSessions).toHaveBeenCalledTimes(1));
    await consultAbout(user, 'i-1');
    await waitFor(() => expect(screen.getAllByTestId('tc-entry')).toHaveLength(2));
    expect(screen.queryByTestId('tc-active-consultations')).not.toBeInTheDocument();

    // Carol accepts the IM consultation Alice started about this call.
    const connected = {
      ...session('s-9', carol, { kind: 'connected' }, { consultation: true, i_invited: true }),
      interaction_id: 'i-1',
    };
    shell.emitSession(connected);
    const active = await screen.findByTestId('tc-active-entry');
    expect(active).toHaveAttribute('data-session-id', 's-9');
    expect(active).toHaveAttribute('aria-selected', 'true');
    expect(api.listSessions).toHaveBeenCalledTimes(1);

    screen.getByTestId('tc-search').focus();
    await user.keyboard('{Enter}');
    await user.click(within(screen.getByTestId('tc-actions')).getByTestId('tc-action-voice'));
    expect(api.startVoiceConsultation).toHaveBeenCalledWith('s-9');
    await waitFor(() => expect(screen.queryByTestId('consult-banner')).not.toBeInTheDocument());
    expect(screen.queryByTestId('tc-active-consultations')).not.toBeInTheDocument();
  });

  it('starts from the interaction view, with a banner, and the search focused', async () => {
    const { user } = setup();
    await consultAbout(user, 'i-1');

    const banner = screen.getByTestId('consult-banner');
    expect(banner).toHaveTextContent('Consult about Maria Souza — Where is my order?');
    expect(within(screen.getByRole('region', { name: 'Team Communicator' })).getByTestId('consult-banner')).toBe(
      banner,
    );
    expect(screen.getByTestId('tc-search')).toHaveFocus();
    expect(screen.getByTestId('start-consultation')).toHaveAttribute('aria-pressed', 'true');
  });

  it('offers Start Instant Message Consultation, which drafts it with the colleague, then leaves the mode', async () => {
    const { user } = setup();
    await consultAbout(user, 'i-1');

    const menu = await openMenu(user, 'carol');
    const consult = within(menu).getByTestId('tc-action-consult');
    expect(consult).toHaveTextContent('Start Instant Message Consultation');
    expect(consult).toHaveAttribute('role', 'menuitem');
    expect(within(menu).queryByTestId('tc-action-im')).not.toBeInTheDocument();
    expect(within(menu).queryByText(/Send an Instant Message/)).not.toBeInTheDocument();

    await user.click(consult);
    expect(api.startConsultation).toHaveBeenCalledTimes(1);
    expect(api.startConsultation).toHaveBeenCalledWith('i-1', { id: 12, login: 'carol', name: 'Carol Diaz' });
    expect(api.startIm).not.toHaveBeenCalled();
    await waitFor(() => expect(screen.queryByTestId('consult-banner')).not.toBeInTheDocument());
    expect(screen.queryByTestId('tc-actions')).not.toBeInTheDocument();

    // Back to ordinary instant messages.
    const again = await openMenu(user, 'bob');
    expect(within(again).getByTestId('tc-action-im')).toHaveTextContent('Send an Instant Message Bob Stone');
    expect(within(again).queryByTestId('tc-action-consult')).not.toBeInTheDocument();
  });

  it('works from the keyboard as before', async () => {
    const { user } = setup();
    await consultAbout(user, 'i-1');
    await waitFor(() => expect(screen.getAllByTestId('tc-entry')).toHaveLength(2));

    await user.keyboard('{ArrowDown}{Enter}');
    const consult = screen.getByTestId('tc-action-consult');
    expect(consult).toHaveFocus();
    expect(screen.getByTestId('tc-actions')).toHaveAccessibleName('Actions for Carol Diaz');
    await user.keyboard('{Enter}');

    expect(api.startConsultation).toHaveBeenCalledWith('i-1', { id: 12, login: 'carol', name: 'Carol Diaz' });
    await waitFor(() => expect(screen.queryByTestId('consult-banner')).not.toBeInTheDocument());
    expect(screen.getByTestId('tc-search')).toHaveFocus();
  });

  it('stays in the mode, saying why, when the consultation cannot be drafted', async () => {
    const { user } = setup();
    vi.mocked(api.startConsultation).mockRejectedValue({ message: 'This colleague cannot receive instant messages.' });
    await consultAbout(user, 'i-1');
    const menu = await openMenu(user, 'bob');
    await user.click(within(menu).getByTestId('tc-action-consult'));

    const failure = await screen.findByTestId('tc-action-failure');
    expect(failure).toHaveAttribute('role', 'alert');
    expect(failure).toHaveTextContent('This colleague cannot receive instant messages.');
    expect(screen.getByTestId('tc-actions')).toBe(menu);
    expect(screen.getByTestId('consult-banner')).toBeInTheDocument();
  });

  it('is left with Cancel', async () => {
    const { user } = setup();
    await consultAbout(user, 'i-1');
    await user.click(screen.getByTestId('consult-cancel'));

    expect(screen.queryByTestId('consult-banner')).not.toBeInTheDocument();
    const menu = await openMenu(user, 'bob');
    expect(within(menu).getByTestId('tc-action-im')).toBeInTheDocument();
    expect(screen.getByTestId('start-consultation')).toHaveAttribute('aria-pressed', 'false');
  });

  it('is left with Escape, once no menu is open', async () => {
    const { user } = setup();
    await consultAbout(user, 'i-1');
    await openMenu(user, 'bob');

    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('tc-actions')).not.toBeInTheDocument();
    expect(screen.getByTestId('consult-banner')).toBeInTheDocument();

    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('consult-banner')).not.toBeInTheDocument();
  });

  it('is left with Escape from elsewhere in the window too', async () => {
    const { user } = setup();
    await consultAbout(user, 'i-1');
    screen.getByTestId('start-consultation').focus();

    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('consult-banner')).not.toBeInTheDocument();
    expect(screen.getByTestId('interaction-view')).toBeInTheDocument();
  });

  it('ends when the interaction ends', async () => {
    const { shell, user } = setup([interaction('i-1'), interaction('i-2')]);
    await consultAbout(user, 'i-1');
    expect(screen.getByTestId('consult-banner')).toBeInTheDocument();

    shell.emitInteraction(interaction('i-1', { state: 'ended' }));
    await waitFor(() => expect(screen.queryByTestId('consult-banner')).not.toBeInTheDocument());
  });

  it('shows the interaction in the banner as text', async () => {
    const { user } = setup([interaction('i-1', { contact: { id: 'c', name: '<b>Eve</b>' }, subject: '<img src=x>' })]);
    await consultAbout(user, 'i-1');
    expect(screen.getByTestId('consult-banner')).toHaveTextContent('Consult about <b>Eve</b> — <img src=x>');
    expect(document.querySelector('img, b')).toBeNull();
  });
});
