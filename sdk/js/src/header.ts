// The 7-byte SocketX header that starts every client↔proxy message
// (docs/PROTOCOL.md §Header): magic 4D 54 45 02, version 01, action,
// messageType. No length and no sequence field.

import type { Bytes } from './bytes.js';
import { CodecError } from './errors.js';

/** Size of the SocketX header. */
export const HEADER_LEN = 7;

const MAGIC = [0x4d, 0x54, 0x45, 0x02] as const;
const VERSION = 0x01;

/** Byte 5 of the header. */
export const Action = {
  Request: 0,
  Response: 1,
  PairRequest: 2,
  PairResponse: 3,
  UpstreamRequest: 4,
  UpstreamResponse: 5,
  ProxyData: 6,
  Unknown: 255,
} as const;
export type Action = number;

/** Byte 6 of the header. */
export const MessageType = {
  Text: 0,
  Binary: 1,
  Handshake: 254,
} as const;
export type MessageType = number;

/** Protocol name of an action, e.g. "pairResponse". */
export function actionName(a: number): string {
  switch (a) {
    case 0: return 'request';
    case 1: return 'response';
    case 2: return 'pairRequest';
    case 3: return 'pairResponse';
    case 4: return 'upstreamConnectionRequest';
    case 5: return 'upstreamConnectionResponse';
    case 6: return 'proxyData';
    case 255: return 'unknown';
  }
  return `action(${a})`;
}

/** The decoded action and message type of a message. */
export interface Header {
  action: number;
  type: number;
}

/**
 * Splits a complete SocketX message into header and payload (a view into
 * msg). Checks magic and version only; validateHeader checks the
 * action/type combination. Throws CodecError ("short", "magic", "version").
 */
export function parseHeader(msg: Uint8Array): { header: Header; payload: Uint8Array } {
  if (msg.length < HEADER_LEN) throw new CodecError('short', 'socketx: message too short');
  if (msg[0] !== MAGIC[0] || msg[1] !== MAGIC[1] || msg[2] !== MAGIC[2] || msg[3] !== MAGIC[3]) {
    throw new CodecError('magic', 'socketx: bad header magic');
  }
  if (msg[4] !== VERSION) throw new CodecError('version', 'socketx: unsupported header version');
  return { header: { action: msg[5]!, type: msg[6]! }, payload: msg.subarray(HEADER_LEN) };
}

/** Whether (action, type) is valid: actions 0–5 use Handshake, proxyData Text or Binary. */
export function headerValid(h: Header): boolean {
  if (h.action <= Action.UpstreamResponse) return h.type === MessageType.Handshake;
  if (h.action === Action.ProxyData) return h.type === MessageType.Text || h.type === MessageType.Binary;
  return false;
}

/** Throws CodecError "messageType" unless headerValid(h). */
export function validateHeader(h: Header): void {
  if (!headerValid(h)) throw new CodecError('messageType', 'socketx: invalid action/messageType combination');
}

/** Writes the header for (action, type) into out at offset. */
export function putHeader(out: Uint8Array, offset: number, action: number, type: number): void {
  out[offset] = MAGIC[0];
  out[offset + 1] = MAGIC[1];
  out[offset + 2] = MAGIC[2];
  out[offset + 3] = MAGIC[3];
  out[offset + 4] = VERSION;
  out[offset + 5] = action;
  out[offset + 6] = type;
}

/** A complete plaintext handshake message: header (type 254) + payload. */
export function handshakeMessage(action: number, payload?: Uint8Array): Bytes {
  const out = new Uint8Array(HEADER_LEN + (payload?.length ?? 0));
  putHeader(out, 0, action, MessageType.Handshake);
  if (payload) out.set(payload, HEADER_LEN);
  return out;
}
