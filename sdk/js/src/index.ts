// @socketx/client: browser and Node client for SocketX proxies.
export {
  SocketX, defaultPathname, type ConnectOptions, type SendData, type SocketXState, type SocketXListener,
} from './socket.js';
export {
  SocketXError, NetworkError, HandshakeError, CodecError, UpstreamError, QueueFullError, InvalidStateError, AbortError,
  ServerAuthError, SERVER_NOT_AUTHENTICATED, UNKNOWN_SERVER_KEY,
  type ErrorKind, type CodecDetail, type HandshakeState, type ServerAuthDetail,
} from './errors.js';
export {
  SocketXMessageEvent, SocketXCloseEvent, SocketXErrorEvent, SocketXPairedEvent, SocketXReconnectingEvent,
  SocketXReconnectedEvent, type SocketXEventMap, type BinaryType, type MessageData,
} from './events.js';
export { backoffDelay, reconnectPolicy, defaultShouldReconnect, type ReconnectOptions } from './backoff.js';
export { type Strength, strengthName, publicKeySize, secretSize } from './kex.js';
export type { WebSocketConstructor, WebSocketLike } from './link.js';
export type { CryptoProvider } from './crypto.js';
export { parseServerKey, serverKeyId, type ServerKeyPin, type ServerPublicKey } from './serverkey.js';
