/**
 * Stand-in for Electron's type definitions where desktop/ is not installed (Node 20: Electron 45
 * needs 22.12, README "What needs what"). tsconfig.json's `paths` uses Electron's own types from
 * desktop/node_modules when they are there and falls back to this file; every name here is `any`, so
 * only the four main-process files (main, preload, print, security) are checked loosely without it.
 * A name newly imported from 'electron' must be added here too.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
export type BrowserWindowConstructorOptions = any;
export type CustomScheme = any;
export type IpcRendererEvent = any;
export type PrinterInfo = any;
export type WebContentsPrintOptions = any;
export type WebContents = any;
export declare const app: any;
export declare const BrowserWindow: any;
export type BrowserWindow = any;
export declare const contextBridge: any;
export declare const dialog: any;
export declare const ipcMain: any;
export declare const ipcRenderer: any;
export declare const protocol: any;
export declare const session: any;
