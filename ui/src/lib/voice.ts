// What an IM window says about its voice consultation, from this agent's side of it.

import type { VoiceConsultation, VoiceConsultationState } from './bindings';

/** What the agent can do about a voice consultation, each waiting for the shell in turn. */
export type VoiceAction = 'start' | 'end' | 'accept' | 'decline';

export type VoiceWords = {
  /** The one line that says where it stands. */
  title: string;
  /** What it means for the customer, when there is something to add. */
  detail: string | null;
};

/**
 * The voice bar's words: `name` is the other agent; `iInvited` whether this agent started the
 * consultation (and so has the customer on hold).
 */
export function voiceWords(voice: VoiceConsultation, name: string, iInvited: boolean): VoiceWords {
  switch (voice.state) {
    case 'ringing':
      if (!iInvited) {
        return { title: `${name} asks for a voice consultation`, detail: 'Their customer is on hold while you talk.' };
      }
      return {
        title: voice.customer_held ? `Calling ${name}… the customer is on hold` : `Calling ${name}…`,
        detail: null,
      };
    case 'connected':
      return {
        title: voice.customer_held
          ? `Voice consultation with ${name} — customer on hold`
          : `Voice consultation with ${name}`,
        detail: null,
      };
    case 'ended':
      return {
        title: 'Voice consultation ended',
        detail: iInvited && !voice.customer_held ? 'The customer is back with you.' : null,
      };
  }
}

const ORDER: Readonly<Record<VoiceConsultationState, number>> = { ringing: 0, connected: 1, ended: 2 };

/**
 * The voice consultation to show once `next` is heard: a voice consultation only moves forward
 * (ringing, connected, ended), so older news of the same one is ignored; another one replaces it.
 */
export function nextVoice(current: VoiceConsultation | null, next: VoiceConsultation): VoiceConsultation {
  if (current === null || current.id !== next.id) return next;
  return ORDER[next.state] < ORDER[current.state] ? current : next;
}

/** Whether a voice consultation is under way (ringing or connected), so it can be ended. */
export function voiceLive(voice: VoiceConsultation | null): boolean {
  return voice !== null && voice.state !== 'ended';
}
