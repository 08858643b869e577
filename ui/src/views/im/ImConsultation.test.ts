// An IM window of a consultation: its draft, what it is about beside the transcript, and its
// voice consultation.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type {
  HistoryEntry,
  ImWindowView,
  InteractionDetails,
  SessionView,
  StatusView,
  VoiceConsultation,
} from '../../lib/bindings';
import * as api from '../../test/api-mock';
import { historyEntry, interaction, interactionDetails } from '../../test/fixtures';
import { deferred, stubShell, type Shell } from '../../test/shell';
import { message, session as imSession } from './fixtures';
import ImView from './ImView.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));

afterEach(() => {
  vi.useRealTimers();
});

/** A consultation of Alice's with Bob about the call `i-1` (Alice invited, unless told). */
function consultation(status: StatusView = { kind: 'connected' }, more: Partial<SessionView> = {}): SessionView {
  return imSession(status, { consultation: true, interaction_id: 'i-1', ...more });
}

function voice(state: VoiceConsultation['state'], more: Partial<VoiceConsultation> = {}): VoiceConsultation {
  return { id: 'vc-1', session_id: 's-1', interaction_id: 'i-1', state, customer_held: state !== 'ended', ...more };
}

type Opened = { shell: Shell; user: ReturnType<typeof userEvent.setup> };

/** Opens an IM window showing `state`, whose consultation's details are `details`. */
async function open(
  state: Partial<ImWindowView> = {},
  details: InteractionDetails | null = interactionDetails(),
  user = userEvent.setup(),
  before: () => void = () => {},
): Promise<Opened> {
  const shell = stubShell({
    im: { session: consultation(), messages: [], has_earlier: false, zoom: 100, spell_check: true, voice: null, ...state },
    details,
  });
  before();
  render(ImView);
  await screen.findByTestId('im-title');
  return { shell, user };
}

const entries = (): HTMLElement[] => screen.queryAllByTestId('history-entry');
const subjects = (): (string | null)[] => entries().map((e) => within(e).getByTestId('history-subject').textContent);

describe('A drafted consultation (Not Connected)', () => {
  it('says so, and takes the first message, which Send turns into the invitation', async () => {
    vi.mocked(api.imSend).mockResolvedValue(message(1, 'Can you check order 5521?', { from: 7 }));
    const { shell, user } = await open({ session: consultation({ kind: 'not_connected' }) });

    expect(screen.getByTestId('im-status')).toHaveTextContent('Not Connected');
    expect(screen.getByTestId('im-consult-hint')).toHaveTextContent('Consultation about interaction i-1');
    const input = screen.getByTestId('im-input');
    expect(input).toBeEnabled();
    expect(input).toHaveAttribute('placeholder', 'Type the first message to Bob Stone — Send invites them');
    expect(screen.getByTestId('im-send')).toBeEnabled();
    expect(screen.queryByTestId('consult-panel')).not.toBeInTheDocument();

    await user.type(input, 'Can you check order 5521?');
    await user.click(screen.getByTestId('im-send'));
    expect(api.imSend).toHaveBeenCalledWith('Can you check order 5521?');
    await waitFor(() => expect(input).toHaveValue(''));
    expect(screen.getByTestId('im-entry-text')).toHaveTextContent('Can you check order 5521?');

    shell.emitSession(consultation({ kind: 'inviting' }));
    await waitFor(() => expect(screen.getByTestId('im-status')).toHaveTextContent('Inviting Bob Stone…'));
    expect(input).toBeDisabled();
    expect(api.imConsultation).not.toHaveBeenCalled();

    shell.emitSession(consultation({ kind: 'connected' }));
    await waitFor(() => expect(screen.getByTestId('im-status')).toHaveTextContent('Connected'));
    expect(input).toBeEnabled();
  });

  it('is discarded with Done', async () => {
    vi.mocked(api.imDone).mockResolvedValue();
    const { user } = await open({ session: consultation({ kind: 'not_connected' }) });
    await user.click(screen.getByTestId('im-done'));
    expect(api.imDone).toHaveBeenCalledTimes(1);
    expect(api.imSend).not.toHaveBeenCalled();
  });

  it('has no hint when it is not a consultation', async () => {
    await open({ session: imSession({ kind: 'connected' }) }, null);
    expect(screen.queryByTestId('im-consult-hint')).not.toBeInTheDocument();
    expect(screen.queryByTestId('consult-panel')).not.toBeInTheDocument();
    expect(api.imConsultation).not.toHaveBeenCalled();
  });
});

describe('The consultation panel', () => {
  it('loads the details once connected, for the consulted agent too, and names the interaction', async () => {
    const { shell } = await open({ session: consultation({ kind: 'invited' }, { i_invited: false }) });
    expect(screen.queryByTestId('consult-panel')).not.toBeInTheDocument();
    expect(api.imConsultation).not.toHaveBeenCalled();

    shell.emitSession(consultation({ kind: 'connected' }, { i_invited: false }));
    const panel = await screen.findByTestId('consult-panel');
    await waitFor(() => expect(within(panel).getByTestId('consult-case-data')).toBeInTheDocument());
    expect(api.imConsultation).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('im-consult-hint')).toHaveTextContent(
      'Consultation about Maria Souza — Where is my order?',
    );
    expect(within(panel).getByTestId('consult-summary')).toHaveTextContent('Maria Souza');

    // Another session event does not load them again.
    shell.emitSession(consultation({ kind: 'connected' }, { i_invited: false }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(api.imConsultation).toHaveBeenCalledTimes(1);
  });

  it('shows the case data read-only, by default', async () => {
    await open();
    const caseData = await screen.findByTestId('consult-case-data');
    expect(screen.getByTestId('tab-case-data')).toHaveAttribute('aria-selected', 'true');
    const rows = within(caseData).getAllByTestId('case-datum');
    expect(rows.map((r) => r.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'Customer segment Gold',
      'Order 5521',
      'Reason Delivery delay',
    ]);
    expect(caseData.querySelector('input, textarea, select, [contenteditable]')).toBeNull();
  });

  it('shows the contact and the history in their tabs', async () => {
    const { user } = await open();
    await screen.findByTestId('consult-case-data');

    await user.click(screen.getByTestId('tab-contact'));
    expect(screen.getByTestId('tab-contact')).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByTestId('tab-case-data')).toHaveAttribute('aria-selected', 'false');
    expect(screen.queryByTestId('consult-case-data')).not.toBeInTheDocument();
    const contact = screen.getByTestId('consult-contact');
    expect(within(contact).getByTestId('contact-name')).toHaveTextContent('Maria Souza');
    expect(within(contact).getAllByTestId('contact-phone').map((p) => p.textContent)).toEqual([
      '+55 11 5555 0101',
      '+55 11 5555 0199',
    ]);
    expect(within(contact).getAllByTestId('contact-email').map((e) => e.textContent)).toEqual([
      'maria.souza@example.com',
    ]);

    await user.click(screen.getByTestId('tab-history'));
    expect(screen.getByTestId('history-search')).toBeInTheDocument();
    expect(subjects()).toEqual(['Where is my order?', 'Delivery address change', 'Promo code not applied']);
    const newest = entries()[0] as HTMLElement;
    expect(within(newest).getByTestId('media-icon')).toHaveAccessibleName('Voice call');
    expect(within(newest).getByTestId('history-outcome')).toHaveTextContent('Escalated to carrier');
    expect(within(newest).getByTestId('history-notes')).toHaveTextContent('Carrier ticket 88-231 opened.');
    expect(within(newest).getByTestId('history-date').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(within(newest).getByTestId('history-date').textContent).not.toBe('');
    expect(within(entries()[1] as HTMLElement).getByTestId('media-icon')).toHaveAccessibleName('Email');
  });

  it('moves between tabs with the arrow keys', async () => {
    const { user } = await open();
    await screen.findByTestId('consult-case-data');
    screen.getByTestId('tab-case-data').focus();

    await user.keyboard('{ArrowRight}');
    expect(screen.getByTestId('tab-contact')).toHaveFocus();
    expect(screen.getByTestId('consult-contact')).toBeInTheDocument();
    await user.keyboard('{ArrowRight}');
    expect(screen.getByTestId('tab-history')).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{ArrowRight}');
    expect(screen.getByTestId('tab-case-data')).toHaveFocus();
    await user.keyboard('{End}');
    expect(screen.getByTestId('tab-history')).toHaveFocus();
  });

  it('collapses to its tabs, and opens again with one', async () => {
    const { user } = await open();
    await screen.findByTestId('consult-case-data');
    const toggle = screen.getByTestId('consult-toggle');
    expect(toggle).toHaveAttribute('aria-expanded', 'true');

    await user.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    expect(screen.getByRole('tabpanel', { hidden: true })).not.toBeVisible();

    await user.click(screen.getByTestId('tab-contact'));
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    expect(screen.getByTestId('consult-contact')).toBeVisible();
  });

  it('says in plain words why the details cannot be shown, and tries again', async () => {
    const { user } = await open({}, interactionDetails(), userEvent.setup(), () => {
      vi.mocked(api.imConsultation).mockRejectedValueOnce({ message: 'The consultation has ended.' });
    });

    const error = await screen.findByTestId('consult-error');
    expect(error).toHaveAttribute('role', 'alert');
    expect(error).toHaveTextContent('The consultation has ended.');
    await user.click(within(error).getByTestId('consult-retry'));
    expect(await screen.findByTestId('consult-case-data')).toBeInTheDocument();
    expect(screen.queryByTestId('consult-error')).not.toBeInTheDocument();
  });

  it('keeps what it loaded once the session ends', async () => {
    const { shell, user } = await open();
    await screen.findByTestId('consult-case-data');
    shell.emitSession(consultation({ kind: 'ended', cause: 'ended_by_other' }));
    await waitFor(() => expect(screen.getByTestId('im-status')).toHaveTextContent('Ended'));

    expect(screen.getByTestId('consult-case-data')).toBeInTheDocument();
    await user.click(screen.getByTestId('tab-history'));
    expect(entries()).toHaveLength(3);
  });

  it('shows what the hub sent as text', async () => {
    const x = '<img src=x onerror=alert(1)>';
    const about = interaction('i-1', {
      contact: { id: 'c', name: '<b>Eve</b>' },
      subject: '<i>s</i>',
      case_data: [{ key: 'k', label: '<u>label</u>', value: x }],
    });
    const details = interactionDetails(about, [historyEntry('h', 1, { subject: x, outcome: '<b>o</b>', notes: '<i>n</i>' })]);
    details.contact = { id: 'c', first_name: '<b>Eve', last_name: '</b>', phones: ['<a>1</a>'], emails: ['<a>e</a>'] };
    const { user } = await open({}, details);

    const caseData = await screen.findByTestId('consult-case-data');
    expect(caseData).toHaveTextContent(`<u>label</u> ${x}`);
    expect(screen.getByTestId('im-consult-hint')).toHaveTextContent('Consultation about <b>Eve</b> — <i>s</i>');
    await user.click(screen.getByTestId('tab-contact'));
    expect(screen.getByTestId('consult-contact')).toHaveTextContent('<b>Eve </b>');
    await user.click(screen.getByTestId('tab-history'));
    expect(entries()[0]).toHaveTextContent(x);
    expect(document.querySelector('img, b, i, u, a')).toBeNull();
  });
});

describe('The history search', () => {
  it('searches once typing pauses, and shows the answer newest first', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    await open({}, interactionDetails(), user);
    await screen.findByTestId('consult-case-data');
    await user.click(screen.getByTestId('tab-history'));
    vi.mocked(api.imContactHistory).mockResolvedValue([
      historyEntry('old', 90, { subject: 'Old refund', outcome: 'Refund issued' }),
      historyEntry('new', 3, { subject: 'New refund', outcome: 'Refund issued' }),
    ]);

    await user.type(screen.getByTestId('history-search'), 'refund');
    expect(api.imContactHistory).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(300);
    expect(api.imContactHistory).toHaveBeenCalledTimes(1);
    expect(api.imContactHistory).toHaveBeenCalledWith('refund');
    await vi.waitFor(() => expect(subjects()).toEqual(['New refund', 'Old refund']));
    expect(screen.getByTestId('history-count')).toHaveTextContent('2 matches for “refund”');

    // Cleared: the recent history again, without asking.
    await user.clear(screen.getByTestId('history-search'));
    await vi.advanceTimersByTimeAsync(300);
    expect(api.imContactHistory).toHaveBeenCalledTimes(1);
    expect(subjects()).toEqual(['Where is my order?', 'Delivery address change', 'Promo code not applied']);
  });

  it('shows only the answer to the latest search', async () => {
    const { user } = await open();
    await screen.findByTestId('consult-case-data');
    await user.click(screen.getByTestId('tab-history'));
    const answers = new Map<string, ReturnType<typeof deferred<HistoryEntry[]>>>();
    vi.mocked(api.imContactHistory).mockImplementation((query) => {
      const answer = deferred<HistoryEntry[]>();
      answers.set(query, answer);
      return answer.promise;
    });
    const search = screen.getByTestId('history-search');

    await user.type(search, 'ref');
    await waitFor(() => expect(answers.has('ref')).toBe(true));
    await user.type(search, 'und');
    await waitFor(() => expect(answers.has('refund')).toBe(true));

    answers.get('refund')?.resolve([historyEntry('r', 2, { subject: 'Refund for the kettle' })]);
    await waitFor(() => expect(subjects()).toEqual(['Refund for the kettle']));
    answers.get('ref')?.resolve([historyEntry('x', 1, { subject: 'Stale answer' })]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(subjects()).toEqual(['Refund for the kettle']);
  });

  it('ignores an answer that comes after the field was cleared', async () => {
    const { user } = await open();
    await screen.findByTestId('consult-case-data');
    await user.click(screen.getByTestId('tab-history'));
    const answer = deferred<HistoryEntry[]>();
    vi.mocked(api.imContactHistory).mockReturnValue(answer.promise);

    await user.type(screen.getByTestId('history-search'), 'kettle');
    await waitFor(() => expect(api.imContactHistory).toHaveBeenCalledWith('kettle'));
    await user.keyboard('{Escape}');
    expect(screen.getByTestId('history-search')).toHaveValue('');

    answer.resolve([historyEntry('x', 1, { subject: 'Too late' })]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(subjects()).toEqual(['Where is my order?', 'Delivery address change', 'Promo code not applied']);
  });

  it('says when nothing matches, and why a search failed', async () => {
    const { user } = await open();
    await screen.findByTestId('consult-case-data');
    await user.click(screen.getByTestId('tab-history'));

    await user.type(screen.getByTestId('history-search'), 'zebra');
    expect(await screen.findByTestId('history-empty')).toHaveTextContent(
      'Nothing in this contact’s history matches “zebra”.',
    );

    vi.mocked(api.imContactHistory).mockRejectedValueOnce({ message: 'The hub refused: the consultation ended.' });
    await user.type(screen.getByTestId('history-search'), 's');
    const error = await screen.findByTestId('history-error');
    expect(error).toHaveAttribute('role', 'alert');
    expect(error).toHaveTextContent('The hub refused: the consultation ended.');
  });

  it('keeps the search when the agent looks at another tab', async () => {
    const { user } = await open();
    await screen.findByTestId('consult-case-data');
    await user.click(screen.getByTestId('tab-history'));
    await user.type(screen.getByTestId('history-search'), 'promo');
    await waitFor(() => expect(subjects()).toEqual(['Promo code not applied']));

    await user.click(screen.getByTestId('tab-case-data'));
    await user.click(screen.getByTestId('tab-history'));
    expect(screen.getByTestId('history-search')).toHaveValue('promo');
    expect(subjects()).toEqual(['Promo code not applied']);
  });
});

describe('The voice consultation', () => {
  it('is offered to the agent who started a consultation about a call, once connected', async () => {
    const { shell } = await open({ session: consultation({ kind: 'inviting' }) });
    expect(screen.queryByTestId('start-voice')).not.toBeInTheDocument();

    shell.emitSession(consultation({ kind: 'connected' }));
    const start = await screen.findByTestId('start-voice');
    expect(start).toHaveAccessibleName('Start Voice Consultation');
    expect(start).toBeEnabled();

    shell.emitSession(consultation({ kind: 'ended', cause: 'ended_by_me' }));
    await waitFor(() => expect(screen.queryByTestId('start-voice')).not.toBeInTheDocument());
  });

  it('is not offered to the consulted agent', async () => {
    await open({ session: consultation({ kind: 'connected' }, { i_invited: false }) });
    await screen.findByTestId('consult-case-data');
    expect(screen.queryByTestId('start-voice')).not.toBeInTheDocument();
  });

  it('is not offered for an email or a chat', async () => {
    await open({}, interactionDetails(interaction('i-1', { media: 'email' })));
    await screen.findByTestId('consult-case-data');
    expect(screen.queryByTestId('start-voice')).not.toBeInTheDocument();
  });

  it('is not offered in an ordinary IM session', async () => {
    await open({ session: imSession({ kind: 'connected' }) }, interactionDetails());
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(screen.queryByTestId('start-voice')).not.toBeInTheDocument();
  });

  it('rings, connects and ends, with the customer on hold meanwhile', async () => {
    const { shell, user } = await open();
    await user.click(await screen.findByTestId('start-voice'));
    expect(api.imStartVoice).toHaveBeenCalledTimes(1);

    const bar = await screen.findByTestId('voice-status');
    expect(bar).toHaveAttribute('data-state', 'ringing');
    expect(bar).toHaveTextContent('Calling Bob Stone… the customer is on hold');
    expect(within(bar).getByTestId('end-voice')).toHaveAccessibleName('End Voice Consultation');
    expect(screen.queryByTestId('start-voice')).not.toBeInTheDocument();
    expect(screen.queryByTestId('voice-accept')).not.toBeInTheDocument();
    expect(screen.getByTestId('im-live')).toHaveTextContent('Calling Bob Stone… the customer is on hold');

    shell.emitVoice(voice('connected'));
    await waitFor(() =>
      expect(screen.getByTestId('voice-status')).toHaveTextContent('Voice consultation with Bob Stone — customer on hold'),
    );

    await user.click(screen.getByTestId('end-voice'));
    expect(api.imEndVoice).toHaveBeenCalledTimes(1);

    shell.emitVoice(voice('ended'));
    await waitFor(() => expect(screen.getByTestId('voice-status')).toHaveTextContent('Voice consultation ended'));
    expect(screen.queryByTestId('end-voice')).not.toBeInTheDocument();
    // Another one may start.
    expect(screen.getByTestId('start-voice')).toBeInTheDocument();

    await user.click(screen.getByTestId('voice-dismiss'));
    expect(screen.queryByTestId('voice-status')).not.toBeInTheDocument();
  });

  it('never steps back on older news', async () => {
    const { shell } = await open();
    shell.emitVoice(voice('connected'));
    await waitFor(() => expect(screen.getByTestId('voice-status')).toHaveAttribute('data-state', 'connected'));
    shell.emitVoice(voice('ringing'));
    shell.emitVoice(voice('connected', { session_id: 'elsewhere', id: 'vc-9' }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(screen.getByTestId('voice-status')).toHaveAttribute('data-state', 'connected');
  });

  it('says why it could not start', async () => {
    const { user } = await open();
    vi.mocked(api.imStartVoice).mockRejectedValue({ message: 'The hub refused: the customer’s call is held; it must be active.' });
    await user.click(await screen.findByTestId('start-voice'));

    expect(await screen.findByTestId('im-action-error')).toHaveTextContent('the customer’s call is held');
    expect(screen.queryByTestId('voice-status')).not.toBeInTheDocument();
    expect(screen.getByTestId('start-voice')).toBeEnabled();
  });

  it('shows the voice consultation the window opens with', async () => {
    await open({ voice: voice('connected') });
    expect(screen.getByTestId('voice-status')).toHaveTextContent('Voice consultation with Bob Stone — customer on hold');
    expect(screen.getByTestId('end-voice')).toBeInTheDocument();
  });

  it('asks the consulted agent, who accepts', async () => {
    const { shell, user } = await open({ session: consultation({ kind: 'connected' }, { i_invited: false }) });
    expect(screen.queryByTestId('voice-status')).not.toBeInTheDocument();

    shell.emitVoice(voice('ringing'));
    const request = await screen.findByTestId('voice-status');
    expect(request).toHaveTextContent('Bob Stone asks for a voice consultation');
    expect(screen.queryByTestId('end-voice')).not.toBeInTheDocument();
    expect(screen.getByTestId('im-live')).toHaveTextContent('Bob Stone asks for a voice consultation');

    await user.click(within(request).getByTestId('voice-accept'));
    expect(api.imAnswerVoice).toHaveBeenCalledWith(true);

    shell.emitVoice(voice('connected'));
    await waitFor(() =>
      expect(screen.getByTestId('voice-status')).toHaveTextContent('Voice consultation with Bob Stone — customer on hold'),
    );
    expect(screen.queryByTestId('voice-accept')).not.toBeInTheDocument();
    expect(screen.getByTestId('end-voice')).toBeInTheDocument();
  });

  it('asks the consulted agent, who declines', async () => {
    const { user } = await open({
      session: consultation({ kind: 'connected' }, { i_invited: false }),
      voice: voice('ringing'),
    });
    expect(screen.getByTestId('voice-status')).toHaveTextContent('Bob Stone asks for a voice consultation');

    await user.click(screen.getByTestId('voice-decline'));
    expect(api.imAnswerVoice).toHaveBeenCalledTimes(1);
    expect(api.imAnswerVoice).toHaveBeenCalledWith(false);
  });
});
