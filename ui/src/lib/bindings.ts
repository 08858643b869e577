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
password: string, };

export type LoginField = "hub" | "login" | "password";

export type LoginFailure = { 
/**
 * The message to show in the form.
 */
message: string, 
/**
 * The field to point at, if the failure is about one.
 */
field: LoginField | null, };

export type ConnectionView = { "state": "signed_out" } | { "state": "online", 
/**
 * The hub's address.
 */
hub: string, 
/**
 * The signed-in agent.
 */
agent: AgentProfile, } | { "state": "offline", 
/**
 * The hub's address.
 */
hub: string, 
/**
 * The signed-in agent.
 */
agent: AgentProfile, 
/**
 * Why the connection ended, in words for the agent.
 */
reason: string, };
