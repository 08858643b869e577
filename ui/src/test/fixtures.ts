import type {
  AgentProfile,
  ConnectionView,
  DirectoryEntry,
  HistoryEntry,
  InteractionDetails,
  InteractionSummary,
  InvitationView,
  LastSignIn,
  Presence,
  SessionView,
  StatusView,
} from '../lib/bindings';

export type SignedOut = Extract<ConnectionView, { state: 'signed_out' }>;
export type Online = Extract<ConnectionView, { state: 'online' }>;
export type Offline = Extract<ConnectionView, { state: 'offline' }>;

export const alice: AgentProfile = { id: 7, login: 'alice', display_name: 'Alice Martin' };
export const bob: AgentProfile = { id: 11, login: 'bob', display_name: 'Bob Stone' };
export const carol: AgentProfile = { id: 12, login: 'carol', display_name: 'Carol Diaz' };
export const dave: AgentProfile = { id: 13, login: 'dave', display_name: 'Dave Okafor' };

export const HUB = 'hub.example.com:7878';

export function signedOut(last: LastSignIn | null = null, notice: string | null = null): SignedOut {
  return { state: 'signed_out', last, notice };
}

export function online(
  agent: AgentProfile = alice,
  hub = HUB,
  presence: Presence = 'ready',
  notice: string | null = null,
): Online {
  return { state: 'online', hub, agent, presence, notice };
}

export function offline(reason: string, agent: AgentProfile = alice, notice: string | null = null): Offline {
  return { state: 'offline', hub: HUB, agent, presence: 'ready', reason, notice };
}

/** A colleague as the Team Communicator's search returns them. */
export function colleague(
  agent: AgentProfile,
  more: Partial<Pick<DirectoryEntry, 'presence' | 'favorite' | 'recent_at'>> = {},
): DirectoryEntry {
  return {
    kind: 'agent',
    id: agent.id,
    name: agent.display_name,
    login: agent.login,
    presence: 'ready',
    favorite: false,
    recent_at: null,
    ...more,
  };
}

/** An IM session of Alice's with `other`. */
export function session(
  id: string,
  other: AgentProfile,
  status: StatusView,
  more: Partial<Pick<SessionView, 'created_at' | 'first_message' | 'consultation' | 'i_invited' | 'missed' | 'ended_at'>> = {},
): SessionView {
  const created = more.created_at ?? Date.now();
  return {
    id,
    me: alice,
    other,
    i_invited: status.kind !== 'invited',
    status,
    created_at: created,
    invite_expires_at: created + 60_000,
    first_message: null,
    consultation: false,
    interaction_id: null,
    missed: false,
    ended_at: null,
    ...more,
  };
}

/** An invitation to Alice from `from`, as the toast shows it. */
export function invitation(
  id: string,
  from: AgentProfile,
  more: Partial<Pick<InvitationView, 'first_message' | 'consultation' | 'created_at'>> = {},
): InvitationView {
  return { session_id: id, from, first_message: null, consultation: false, created_at: Date.now(), ...more };
}

/** A customer interaction of Alice's: a call from Maria Souza unless told otherwise. */
export function interaction(id: string, more: Partial<InteractionSummary> = {}): InteractionSummary {
  return {
    id,
    media: 'voice',
    state: 'active',
    contact: { id: 'c-1001', name: 'Maria Souza' },
    subject: 'Where is my order?',
    case_data: [
      { key: 'segment', label: 'Customer segment', value: 'Gold' },
      { key: 'order_id', label: 'Order', value: '5521' },
      { key: 'reason', label: 'Reason', value: 'Delivery delay' },
    ],
    started_at: Date.now() - 4 * 60_000 - 7_000,
    ended_at: null,
    ...more,
  };
}

/** One past interaction with a contact, `daysAgo` days ago. */
export function historyEntry(id: string, daysAgo: number, more: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    id,
    at: Date.now() - daysAgo * 86_400_000,
    media: 'voice',
    subject: 'Where is my order?',
    outcome: 'Resolved',
    notes: '',
    ...more,
  };
}

/** What a consultation's window reads about its interaction: the contact and their history. */
export function interactionDetails(
  about: InteractionSummary = interaction('i-1'),
  history: HistoryEntry[] = [
    historyEntry('h-2', 35, { media: 'email', subject: 'Delivery address change', notes: 'Moved to her office.' }),
    historyEntry('h-1', 12, { outcome: 'Escalated to carrier', notes: 'Carrier ticket 88-231 opened.' }),
    historyEntry('h-3', 61, { media: 'chat', subject: 'Promo code not applied', outcome: 'Refund issued' }),
  ],
): InteractionDetails {
  return {
    interaction: about,
    contact: {
      id: about.contact.id,
      first_name: 'Maria',
      last_name: 'Souza',
      phones: ['+55 11 5555 0101', '+55 11 5555 0199'],
      emails: ['maria.souza@example.com'],
    },
    history,
  };
}
