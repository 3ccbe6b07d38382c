// The whole bridge: one named function per API method (from API_METHODS), each a fixed IPC channel. No generic invoke.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS, EVENT_CHANNEL, IPC_PREFIX, type ApiEvent } from './api.ts';

const api = Object.fromEntries(API_METHODS.map((m) => [m, (...args: unknown[]) => ipcRenderer.invoke(`${IPC_PREFIX}${m}`, ...args)]));
const onEvent = (listener: (event: ApiEvent) => void) => {
  const l = (_e: IpcRendererEvent, ev: ApiEvent) => listener(ev);
  ipcRenderer.on(EVENT_CHANNEL, l);
  return () => void ipcRenderer.off(EVENT_CHANNEL, l);
};
contextBridge.exposeInMainWorld('keyrite', Object.freeze({ ...api, onEvent }));
