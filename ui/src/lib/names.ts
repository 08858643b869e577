// How agents are named on screen.

import type { AgentProfile } from './bindings';

/** The agent's display name, or their login when the directory has no name for them. */
export function displayName(agent: AgentProfile): string {
  return agent.display_name.trim() || agent.login;
}

/** "Alice Martin" → "AM": the first letter or digit of the first and last words that have one. */
export function initialsOf(name: string): string {
  const letters = name
    .split(/\s+/)
    .map((word) => word.match(/[\p{L}\p{N}]/u)?.[0])
    .filter((letter) => letter !== undefined);
  const picked = letters.length > 1 ? [letters[0], letters[letters.length - 1]] : letters;
  return picked.join('').toLocaleUpperCase();
}
