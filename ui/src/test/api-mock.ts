// A stand-in for src/lib/api.ts, for component tests:
//   vi.mock('../../lib/api', () => import('../../test/api-mock'));
// Every command and event of the shell is a mock; `stubShell` gives them their usual answers.
import { vi } from 'vitest';
import type * as Api from '../lib/api';

export const login = vi.fn<typeof Api.login>();
export const currentConnection = vi.fn<typeof Api.currentConnection>();
export const signOut = vi.fn<typeof Api.signOut>();
export const setPresence = vi.fn<typeof Api.setPresence>();
export const searchDirectory = vi.fn<typeof Api.searchDirectory>();
export const setFavorite = vi.fn<typeof Api.setFavorite>();
export const startIm = vi.fn<typeof Api.startIm>();
export const listSessions = vi.fn<typeof Api.listSessions>();
export const showSession = vi.fn<typeof Api.showSession>();
export const zoom = vi.fn<typeof Api.zoom>();
export const setZoom = vi.fn<typeof Api.setZoom>();
export const imState = vi.fn<typeof Api.imState>();
export const imSend = vi.fn<typeof Api.imSend>();
export const imAccept = vi.fn<typeof Api.imAccept>();
export const imReject = vi.fn<typeof Api.imReject>();
export const imEnd = vi.fn<typeof Api.imEnd>();
export const imDone = vi.fn<typeof Api.imDone>();
export const preferences = vi.fn<typeof Api.preferences>();
export const setPreferences = vi.fn<typeof Api.setPreferences>();
export const toastState = vi.fn<typeof Api.toastState>();
export const toastAccept = vi.fn<typeof Api.toastAccept>();
export const toastReject = vi.fn<typeof Api.toastReject>();
export const toastDismiss = vi.fn<typeof Api.toastDismiss>();
export const onToast = vi.fn<typeof Api.onToast>();
export const onPreferences = vi.fn<typeof Api.onPreferences>();
export const onConnection = vi.fn<typeof Api.onConnection>();
export const onPresence = vi.fn<typeof Api.onPresence>();
export const onSession = vi.fn<typeof Api.onSession>();
export const onMessage = vi.fn<typeof Api.onMessage>();
export const onZoom = vi.fn<typeof Api.onZoom>();
export const asFailure = vi.fn<typeof Api.asFailure>();
