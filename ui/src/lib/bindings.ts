// Generated from the Rust types by `cargo test -p huddle ui_bindings`; do not edit.

export type AgentProfile = { 
/**
 * The hub's id of the agent.
 */
id: number, 
/**
 * The login name.
 */
login: string, 
/**
 * The name shown to people.
 */
display_name: string, };

export type Presence = "ready" | "not_ready" | "busy" | "away" | "offline";

export type DirectoryFilter = "all" | "favorites" | "recent";

export type EntryKind = "agent" | "group";

export type DirectoryEntry = { 
/**
 * An agent or a group.
 */
kind: EntryKind, 
/**
 * The agent's or the group's id.
 */
id: number, 
/**
 * The name shown to people.
 */
name: string, 
/**
 * The agent's login (empty for a group).
 */
login: string, 
/**
 * The agent's presence (absent for a group).
 */
presence: Presence | null, 
/**
 * Whether the searching agent marked it as a favorite.
 */
favorite: boolean, 
/**
 * When the searching agent last had an IM session with it, if lately.
 */
recent_at: number | null, };

export type LoginForm = { 
/**
 * The hub's address as typed.
 */
hub: string, 
/**
 * The agent's login.
 */
login: string, 
/**
 * The agent's password.
 */
password: string, 
/**
 * Whether to keep the password in the keychain, so that Huddle signs in by itself even
 * once the session token has expired.
 */
remember: boolean, 
/**
 * The agent was warned that this hub's address is not encrypted and signs in anyway.
 */
unencrypted_ok: boolean, 
/**
 * The way to the hub: `system` (the system's proxy settings), `none`, or a proxy's
 * URL (`http://user:password@proxy:3128`, `socks5://proxy:1080`).
 */
proxy: string, };

export type LoginField = "hub" | "login" | "password" | "proxy";

export type LoginFailure = { 
/**
 * The message to show in the form.
 */
message: string, 
/**
 * The field to point at, if the failure is about one.
 */
field: LoginField | null, 
/**
 * Nothing was sent: the address is not encrypted and leads to another machine, and the
 * agent may sign in anyway once warned (`LoginForm::unencrypted_ok`).
 */
unencrypted: boolean, };

export type LastSignIn = { 
/**
 * The hub's address as typed.
 */
hub: string, 
/**
 * The agent's login.
 */
login: string, 
/**
 * Whether the agent asked to be remembered.
 */
remember: boolean, 
/**
 * The way to the hub (`system`, `none`, or a proxy's URL without its password, which
 * the keychain keeps).
 */
proxy: string, };

export type ConnectionView = { "state": "signed_out", 
/**
 * What to fill the form with.
 */
last: LastSignIn | null, 
/**
 * Something the agent should know, in words for them (a saved sign-in that no
 * longer works, a keychain that cannot be used).
 */
notice: string | null, } | { "state": "signing_in", 
/**
 * The hub's address.
 */
hub: string, 
/**
 * The agent's login.
 */
login: string, } | { "state": "online", 
/**
 * The hub's address.
 */
hub: string, 
/**
 * The signed-in agent.
 */
agent: AgentProfile, 
/**
 * The agent's presence.
 */
presence: Presence, 
/**
 * Something the agent should know (the keychain could not keep the sign-in).
 */
notice: string | null, } | { "state": "offline", 
/**
 * The hub's address.
 */
hub: string, 
/**
 * The signed-in agent.
 */
agent: AgentProfile, 
/**
 * The presence the agent chose, shown again once reconnected.
 */
presence: Presence, 
/**
 * Why the connection ended, in words for the agent.
 */
reason: string, 
/**
 * Something the agent should know (the keychain could not keep the sign-in).
 */
notice: string | null, };

export type PresenceChange = { 
/**
 * The agent.
 */
agent_id: number, 
/**
 * Their presence now.
 */
presence: Presence, };

export type Failure = { 
/**
 * The message to show.
 */
message: string, };

export type StatusView = { "kind": "not_connected" } | { "kind": "inviting" } | { "kind": "invited" } | { "kind": "connected" } | { "kind": "ended", 
/**
 * Why, in this agent's words.
 */
cause: EndCauseView, };

export type EndCauseView = "ended_by_me" | "ended_by_other" | "rejected_by_me" | "rejected" | "timed_out" | "lost" | "cancelled_by_me" | "cancelled";

export type SessionView = { 
/**
 * The session's id.
 */
id: string, 
/**
 * The signed-in agent.
 */
me: AgentProfile, 
/**
 * The other participant.
 */
other: AgentProfile, 
/**
 * Whether the signed-in agent sent the invitation.
 */
i_invited: boolean, 
/**
 * Where it stands.
 */
status: StatusView, 
/**
 * When the invitation was made.
 */
created_at: number, 
/**
 * When an unanswered invitation times out.
 */
invite_expires_at: number, 
/**
 * The text that came with the invitation, if any.
 */
first_message: string | null, 
/**
 * Whether it is a consultation about a customer interaction.
 */
consultation: boolean, 
/**
 * The customer interaction a consultation is about.
 */
interaction_id: string | null, 
/**
 * Whether it is an invitation to this agent that ended before they answered it.
 */
missed: boolean, 
/**
 * When it ended, once it has (as the hub told it).
 */
ended_at: number | null, };

export type Delivery = "pending" | "sent" | "failed";

export type CachedMessage = { 
/**
 * The session.
 */
session_id: string, 
/**
 * The client-chosen id.
 */
id: string, 
/**
 * The hub's number, once sent.
 */
seq: number | null, 
/**
 * The sender's agent id.
 */
from: number, 
/**
 * The text.
 */
text: string, 
/**
 * The hub's time once sent; the local time while pending.
 */
at: number, 
/**
 * Where it stands.
 */
delivery: Delivery, 
/**
 * Why the hub refused it, if it did.
 */
failure: string | null, };

export type ImWindowView = { 
/**
 * The session.
 */
session: SessionView, 
/**
 * The end of its transcript, in order.
 */
messages: Array<CachedMessage>, 
/**
 * Whether earlier messages exist (`im_earlier` reads them).
 */
has_earlier: boolean, 
/**
 * The text size of IM views, in percent.
 */
zoom: number, 
/**
 * Whether misspelled words are marked in the message field.
 */
spell_check: boolean, 
/**
 * The session's voice consultation, if it became one.
 */
voice: VoiceConsultation | null, };

export type TranscriptPageView = { 
/**
 * The messages.
 */
messages: Array<CachedMessage>, 
/**
 * Whether messages before these exist.
 */
has_earlier: boolean, };

export type SnippetPart = { 
/**
 * The text.
 */
text: string, 
/**
 * Whether it matches the query.
 */
hit: boolean, };

export type RevealView = { 
/**
 * The message's id.
 */
message_id: string, 
/**
 * Its sender.
 */
from: number, 
/**
 * Its number in the transcript (`None` while it waits in the outbox).
 */
seq: number | null, };

export type MessageHitView = { 
/**
 * The session it belongs to.
 */
session_id: string, 
/**
 * The colleague of that session.
 */
colleague: AgentProfile, 
/**
 * Whether the session is over.
 */
ended: boolean, 
/**
 * The message, to show it in its window.
 */
reveal: RevealView, 
/**
 * Whether the signed-in agent wrote it.
 */
mine: boolean, 
/**
 * When it was sent.
 */
at: number, 
/**
 * The extract around the match, the matching words marked.
 */
snippet: Array<SnippetPart>, };

export type InvitationView = { 
/**
 * The session.
 */
session_id: string, 
/**
 * Who invites.
 */
from: AgentProfile, 
/**
 * The text that came with the invitation (a consultation's first message).
 */
first_message: string | null, 
/**
 * Whether it is a consultation about a customer interaction.
 */
consultation: boolean, 
/**
 * When the invitation was made, in milliseconds.
 */
created_at: number, };

export type ToastView = { 
/**
 * The invitations, oldest first.
 */
invitations: Array<InvitationView>, 
/**
 * How long a card stays before it is dismissed, in seconds.
 */
seconds: number, 
/**
 * Whether a sound plays for a new invitation.
 */
sound: boolean, };

export type Preferences = { 
/**
 * Hold toasts, notifications and sounds back; invitations still wait in the taskbar.
 */
do_not_disturb: boolean, 
/**
 * Play a sound when an invitation arrives.
 */
sound: boolean, 
/**
 * How long an unanswered toast stays, in seconds.
 */
toast_seconds: number, 
/**
 * Closing the main window keeps Huddle running in the tray, so invitations still arrive.
 */
keep_in_tray: boolean, 
/**
 * The OS's notifications show what colleagues wrote; off, they say only who wrote (for
 * lock screens and screens others can see).
 */
text_in_notifications: boolean, 
/**
 * Huddle starts, to the tray, when the agent logs in to the computer. The OS's entry is
 * the truth; what is saved here is only what was last shown.
 */
start_at_login: boolean, 
/**
 * The system is in do-not-disturb (Focus, Focus Assist, banners off): Huddle holds toasts
 * and sounds back as its own Do not disturb does. Read from the system, never saved.
 */
system_do_not_disturb: boolean, 
/**
 * Misspelled words are marked in the message field, where the webview offers it.
 */
spell_check: boolean, 
/**
 * The spelling dictionary (`en_US`), where the agent can choose one; empty for the
 * system's language.
 */
spell_language: string, };

export type ConsultTarget = { 
/**
 * The agent's id.
 */
id: number, 
/**
 * The agent's login.
 */
login: string, 
/**
 * The agent's name.
 */
name: string, };

export type Media = "voice" | "email" | "chat";

export type InteractionState = "ringing" | "active" | "held" | "ended";

export type CaseDatum = { 
/**
 * A stable name for programs (`order_id`).
 */
key: string, 
/**
 * The name shown to people (`Order`).
 */
label: string, 
/**
 * The value, as text.
 */
value: string, };

export type ContactRef = { 
/**
 * The contact's id (chosen by the contact center's systems).
 */
id: string, 
/**
 * The contact's full name.
 */
name: string, };

export type InteractionSummary = { 
/**
 * The interaction's id (chosen by the contact center's systems).
 */
id: string, 
/**
 * Call, email or chat.
 */
media: Media, 
/**
 * Where it is.
 */
state: InteractionState, 
/**
 * Who the customer is.
 */
contact: ContactRef, 
/**
 * What it is about.
 */
subject: string, 
/**
 * The case data agents may see, in the order the systems gave it.
 */
case_data: Array<CaseDatum>, 
/**
 * When it reached the hub.
 */
started_at: number, 
/**
 * When it ended, once it has.
 */
ended_at: number | null, };

export type ContactInfo = { 
/**
 * The contact's id.
 */
id: string, 
/**
 * Given name.
 */
first_name: string, 
/**
 * Family name.
 */
last_name: string, 
/**
 * Phone numbers, the main one first.
 */
phones: Array<string>, 
/**
 * Email addresses, the main one first.
 */
emails: Array<string>, };

export type HistoryEntry = { 
/**
 * The entry's id (chosen by the contact center's systems, unique per contact).
 */
id: string, 
/**
 * When it took place.
 */
at: number, 
/**
 * Call, email or chat.
 */
media: Media, 
/**
 * What it was about.
 */
subject: string, 
/**
 * How it ended ("Resolved", "Refund issued", …).
 */
outcome: string, 
/**
 * The agent's notes.
 */
notes: string, };

export type InteractionDetails = { 
/**
 * The interaction.
 */
interaction: InteractionSummary, 
/**
 * Its contact.
 */
contact: ContactInfo, 
/**
 * The contact's most recent history, newest first.
 */
history: Array<HistoryEntry>, };

export type VoiceConsultationState = "ringing" | "connected" | "ended";

export type VoiceConsultation = { 
/**
 * The hub's id of the voice consultation.
 */
id: string, 
/**
 * The consultation IM session it came from.
 */
session_id: string, 
/**
 * The voice interaction whose customer is on hold.
 */
interaction_id: string, 
/**
 * Where it is.
 */
state: VoiceConsultationState, 
/**
 * Whether the customer is on hold now.
 */
customer_held: boolean, };

export type ReadyMarks = { 
/**
 * The page began to load.
 */
navigation_start: number, 
/**
 * The page's script began to run.
 */
script: number | null, 
/**
 * The window's view was loaded, before it asked for its data.
 */
view: number | null, 
/**
 * The first paint of anything.
 */
first_paint: number, 
/**
 * The view shows its content and takes input.
 */
interactive: number, };

export type WindowEvent = { 
/**
 * What happened.
 */
event: string, 
/**
 * Its payload, as the event's own type.
 */
payload: unknown, };
