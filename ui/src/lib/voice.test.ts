import { describe, expect, it } from 'vitest';
import type { VoiceConsultation } from './bindings';
import { nextVoice, voiceLive, voiceWords } from './voice';

function voice(state: VoiceConsultation['state'], more: Partial<VoiceConsultation> = {}): VoiceConsultation {
  return { id: 'vc-1', session_id: 's-1', interaction_id: 'i-1', state, customer_held: state !== 'ended', ...more };
}

describe('voiceWords', () => {
  it('speaks to the agent who started it', () => {
    expect(voiceWords(voice('ringing'), 'Bob Stone', true).title).toBe('Calling Bob Stone… the customer is on hold');
    expect(voiceWords(voice('connected'), 'Bob Stone', true).title).toBe(
      'Voice consultation with Bob Stone — customer on hold',
    );
    expect(voiceWords(voice('ended'), 'Bob Stone', true)).toEqual({
      title: 'Voice consultation ended',
      detail: 'The customer is back with you.',
    });
  });

  it('speaks to the consulted agent', () => {
    expect(voiceWords(voice('ringing'), 'Alice Martin', false)).toEqual({
      title: 'Alice Martin asks for a voice consultation',
      detail: 'Their customer is on hold while you talk.',
    });
    expect(voiceWords(voice('ended'), 'Alice Martin', false)).toEqual({ title: 'Voice consultation ended', detail: null });
  });

  it('does not say the customer is on hold when they are not', () => {
    expect(voiceWords(voice('connected', { customer_held: false }), 'Bob Stone', true).title).toBe(
      'Voice consultation with Bob Stone',
    );
  });
});

describe('nextVoice', () => {
  it('moves forward, never back, and takes a new consultation as it comes', () => {
    expect(nextVoice(null, voice('ringing')).state).toBe('ringing');
    expect(nextVoice(voice('ringing'), voice('connected')).state).toBe('connected');
    expect(nextVoice(voice('connected'), voice('ringing')).state).toBe('connected');
    expect(nextVoice(voice('ended'), voice('connected')).state).toBe('ended');
    expect(nextVoice(voice('ended'), voice('ringing', { id: 'vc-2' }))).toMatchObject({ id: 'vc-2', state: 'ringing' });
  });

  it('says whether it is under way', () => {
    expect(voiceLive(null)).toBe(false);
    expect(voiceLive(voice('ringing'))).toBe(true);
    expect(voiceLive(voice('connected'))).toBe(true);
    expect(voiceLive(voice('ended'))).toBe(false);
  });
});
