import type { AgentProfile, ConnectionView } from '../lib/bindings';

export type Online = Extract<ConnectionView, { state: 'online' }>;
export type Offline = Extract<ConnectionView, { state: 'offline' }>;

export const alice: AgentProfile = { id: 7, login: 'alice', display_name: 'Alice Martin' };

export function online(agent: AgentProfile = alice, hub = 'hub.example.com:7878'): Online {
  return { state: 'online', hub, agent };
}

export function offline(reason: string, agent: AgentProfile = alice): Offline {
  return { state: 'offline', hub: 'hub.example.com:7878', agent, reason };
}
