// SocketX demo page: connects through the proxy with the SDK bundle
// (socketx.js, built from sdk/js), sends text and binary messages to the echo
// upstream and logs each message with its round-trip time, its size on the
// wire next to its plaintext size, and the first bytes of the encoded
// message: what an observer between the browser and the proxy sees.
// Query parameters: proxy (default ws://<this host>:8080/), strength
// (512, 768, 1024, xwing or 0), serverKey (the base64 public key `socketx
// keygen` printed: pins the proxy, passed as the SDK's serverKeys),
// autoconnect=0 to wait for the Connect button.
import { SocketX } from './socketx.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const MAX_ROWS = 200;
const DASH = '–';

// docs/PROTOCOL.md §2 and §7: an encoded message is the 7-byte SocketX
// header (magic 4D 54 45 02, version 01, action, messageType), the 8-byte
// sequence number, then the AES-256-GCM ciphertext and its 16-byte tag.
const HEADER_LEN = 7;
const SEQ_LEN = 8;
const ACTION_PROXY_DATA = 6;
// Bytes of each encoded message the page shows: header, seq and the first
// 9 bytes of ciphertext.
const GLIMPSE_LEN = 24;

let socket = null;
let sent = 0;
let received = 0;
const inflight = []; // send timestamps; the echo upstream answers in order

$('proxy').value = params.get('proxy') || `ws://${location.hostname || '127.0.0.1'}:8080/`;
if (['0', '512', '768', '1024', 'xwing'].includes(params.get('strength'))) $('strength').value = params.get('strength');
// A '+' in a query value that was not percent-encoded arrives as a space.
const serverKey = (params.get('serverKey') || '').trim().replace(/ /g, '+');
const NO_PIN = 'not authenticated (no pin)';

// What the page's WebSocket carries, seen through the SDK's WebSocket
// option (ObservedWebSocket below): the SDK encodes and decodes; the page
// only looks at the bytes it hands to and gets from the socket.
const wire = {
  socket: null, // { opened, createdAt } of the newest socket
  outgoing: [], // rows of sent messages whose encoded form has not been written yet, in send order
  incoming: [], // { size, glimpse } of received proxyData not yet decoded, in arrival order
};

function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

// isProxyData: an encoded message carrying an application message (action 6);
// the handshake messages (actions 0–5) are not logged as messages.
function isProxyData(b) {
  return b !== null && b.length >= HEADER_LEN + SEQ_LEN && b[5] === ACTION_PROXY_DATA;
}

function seen(b) {
  return { size: b.length, glimpse: b.slice(0, GLIMPSE_LEN) };
}

// A browser WebSocket that reports what it sends and receives to `wire`.
// Its listeners are added before the SDK sets its handlers, so a received
// message is recorded before the SDK decodes it.
class ObservedWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    const info = { opened: false, createdAt: performance.now() };
    wire.socket = info;
    wire.incoming.length = 0; // a new socket pairs afresh: nothing undecoded carries over
    this.addEventListener('open', () => {
      info.opened = true;
    });
    this.addEventListener('message', (ev) => {
      const b = bytesOf(ev.data);
      if (wire.socket === info && isProxyData(b)) wire.incoming.push(seen(b));
    });
  }

  send(data) {
    super.send(data);
    const b = bytesOf(data);
    if (isProxyData(b)) fillWire(wire.outgoing.shift(), seen(b));
  }
}

// serverAuth describes what the SDK proved about the server.
function serverAuth(s) {
  if (!serverKey) return NO_PIN;
  return s.serverKeyId ? `authenticated, key ID ${s.serverKeyId}` : 'not authenticated';
}

function setState(state) {
  $('state').textContent = state;
  $('state').dataset.state = state;
  const open = state === 'open';
  for (const id of ['text', 'send-text', 'send-binary']) $(id).disabled = !open && state !== 'reconnecting';
  $('connect').disabled = open || state === 'connecting' || state === 'reconnecting';
  $('disconnect').disabled = !(open || state === 'reconnecting');
  $('proxy').disabled = $('strength').disabled = $('connect').disabled;
}

// The pairing details describe the current socket only: cleared when it
// ends, so a failed reconnect never shows the previous session's values.
function clearSession() {
  for (const id of ['kex', 'server-auth', 'eeid', 'pairing']) $(id).textContent = DASH;
}

function showSession(s) {
  $('kex').textContent = s.keyExchange + (s.strength === 0 ? ' — not post-quantum' : '');
  $('server-auth').textContent = serverAuth(s);
  $('eeid').textContent = s.eeid;
  $('pairing').textContent = `${(performance.now() - wire.socket.createdAt).toFixed(0)} ms`;
}

// hint explains an error whose message alone does not say what to fix.
function hint(err, url) {
  if (err.kind === 'network' && err.code === 1006 && wire.socket && !wire.socket.opened) {
    let host = url;
    try {
      host = new URL(url).host;
    } catch { /* the message names the URL */ }
    return 'The proxy refused the upgrade or cannot be reached: a browser reports both as 1006 and does not ' +
      `show the HTTP status. Check that this page's origin, ${location.origin}, is in allowedOrigins of the ` +
      `proxy's DOMAIN_MAP entry for ${host} (otherwise 403 origin not allowed), that DOMAIN_MAP has an entry ` +
      `for ${host} (otherwise 404 unknown host), and that the proxy listens at ${url}.`;
  }
  if (err.kind === 'handshake' && err.code === 1002 && err.state === 'sentPairRequest') {
    return `The proxy refused the pairRequest: the key exchange chosen here (${$('strength').selectedOptions[0].text}) ` +
      "is not the proxy's (MTE_KYBER_STRENGTH / MTE_KEY_EXCHANGE; the reason names the one it expects). " +
      'Choose that one and connect again.';
  }
  if (err.kind === 'handshake' && err.code === 1008 && err.reason === 'mte: unknown server key') {
    return 'The proxy holds none of the pinned keys: pass as serverKey the public key socketx keygen printed for a ' +
      "key in the proxy's MTE_SERVER_KEYS / MTE_SERVER_KEY_FILES.";
  }
  if (err.kind === 'upstream') {
    return "The proxy paired but could not connect the upstream of its DOMAIN_MAP entry; the reason says why.";
  }
  return '';
}

// showProblem shows err's whole message (never cut) and a hint when there is one.
function showProblem(err, url) {
  $('problem-text').textContent = `${err.kind ?? 'error'}: ${err.message}`;
  const h = hint(err, url);
  $('problem-hint').textContent = h;
  $('problem-hint').hidden = h === '';
  $('problem').hidden = false;
}

function hideProblem() {
  $('problem').hidden = true;
  $('problem-text').textContent = '';
  $('problem-hint').textContent = '';
}

function clock() {
  const d = new Date();
  return d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

function hex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function preview(data) {
  if (typeof data === 'string') return data.length > 120 ? data.slice(0, 120) + '…' : data;
  const b = new Uint8Array(data);
  const h = Array.from(b.subarray(0, 16), (x) => x.toString(16).padStart(2, '0')).join(' ');
  return b.length > 16 ? h + ' …' : h;
}

// cell: [text, className, label (shown before the value on narrow screens)]
function row(cells, cls) {
  const tr = document.createElement('tr');
  if (cls) tr.className = cls;
  for (const [content, tdClass, label] of cells) {
    const td = document.createElement('td');
    if (content instanceof Node) td.append(content);
    else td.textContent = content;
    if (tdClass) td.className = tdClass;
    if (label) td.dataset.label = label;
    tr.append(td);
  }
  const log = $('log');
  log.prepend(tr);
  while (log.rows.length > MAX_ROWS) log.deleteRow(log.rows.length - 1);
  $('empty').hidden = true;
  $('stats').textContent = `${sent} sent · ${received} received`;
  return tr;
}

// fillWire shows an encoded message's size and first bytes in its row.
function fillWire(tr, w) {
  if (!tr || !w) return;
  tr.cells[4].textContent = `${w.size.toLocaleString()} B`;
  const g = w.glimpse;
  const glimpse = tr.querySelector('.wire-hex');
  glimpse.dataset.hex = hex(g);
  const part = (cls, bytes, title) => {
    const span = document.createElement('span');
    span.className = cls;
    span.title = title;
    span.textContent = hex(bytes);
    return span;
  };
  glimpse.replaceChildren(
    part('hdr', g.subarray(0, HEADER_LEN), 'SocketX header: magic, version, action 6 (proxyData), messageType'),
    ' ',
    part('seq', g.subarray(HEADER_LEN, HEADER_LEN + SEQ_LEN), 'sequence number'),
    ' ',
    part('ct', g.subarray(HEADER_LEN + SEQ_LEN), 'AES-256-GCM ciphertext'),
    w.size > g.length ? '…' : '');
}

function logMessage(dir, data, rtt, w) {
  const text = typeof data === 'string';
  const size = text ? new TextEncoder().encode(data).length : data.byteLength;
  const content = document.createElement('div');
  const plain = document.createElement('div');
  plain.className = 'plain';
  plain.textContent = preview(data);
  const glimpse = document.createElement('div');
  glimpse.className = 'wire-hex';
  glimpse.title = 'the first bytes of the encoded message, as an observer between this page and the proxy sees them';
  glimpse.textContent = '…';
  content.append(plain, glimpse);
  const tr = row([
    [clock(), 'time'],
    [dir === 'out' ? '→ sent' : '← recv', `dir-${dir}`],
    [text ? 'text' : 'binary', 'type'],
    [`${size.toLocaleString()} B`, 'num size', 'plaintext'],
    ['…', 'num wire', 'on the wire'],
    [rtt === undefined ? '' : `${rtt.toFixed(1)} ms`, 'num rtt', rtt === undefined ? '' : 'RTT'],
    [content, 'content'],
  ], `msg-${dir}`);
  if (dir === 'out') wire.outgoing.push(tr);
  else fillWire(tr, w);
}

function logEvent(text, cls = 'event') {
  row([[clock(), 'time'], [''], [''], ['', 'num'], ['', 'num'], ['', 'num'], [text, 'content']], cls);
}

// A message row that never reached a socket (the connection closed first).
function markUnsent() {
  for (const tr of wire.outgoing.splice(0)) {
    tr.cells[4].textContent = 'not sent';
    tr.querySelector('.wire-hex').textContent = '';
  }
}

async function connect() {
  const url = $('proxy').value.trim();
  const kyberStrength = $('strength').value === 'xwing' ? 'xwing' : Number($('strength').value);
  const options = { kyberStrength, binaryType: 'arraybuffer', reconnect: { maxAttempts: 5 }, WebSocket: ObservedWebSocket };
  if (serverKey) options.serverKeys = [serverKey];
  clearSession();
  hideProblem();
  wire.socket = null;
  setState('connecting');
  try {
    socket = await SocketX.connect(url, options);
  } catch (err) {
    socket = null;
    setState('error');
    $('server-auth').textContent = serverKey ? `not authenticated (${err.kind ?? 'error'}: ${err.message})` : NO_PIN;
    showProblem(err, url);
    logEvent(`connect failed (${err.kind ?? 'error'}): ${err.message}`, 'error');
    return;
  }
  showSession(socket);
  inflight.length = 0;
  setState('open');
  logEvent(`paired with ${socket.keyExchange}, eeid ${socket.eeid}, server ${serverAuth(socket)}`);
  const s = socket;
  s.onmessage = (ev) => {
    received++;
    const t = inflight.shift();
    logMessage('in', ev.data, t === undefined ? undefined : performance.now() - t, wire.incoming.shift());
  };
  s.onerror = (ev) => {
    showProblem(ev.error, url);
    logEvent(`error (${ev.error.kind}): ${ev.error.message}`, 'error');
  };
  s.onreconnecting = (ev) => {
    clearSession();
    setState('reconnecting');
    logEvent(`connection lost (${ev.code}); reconnect attempt ${ev.attempt} in ${ev.delay} ms`);
  };
  s.onreconnected = (ev) => {
    inflight.length = 0;
    showSession(s);
    hideProblem();
    setState('open');
    logEvent(`re-paired, eeid ${ev.eeid}`);
  };
  s.onclose = (ev) => {
    if (socket === s) socket = null;
    markUnsent();
    $('last-close').textContent = `${ev.code}${ev.reason ? ' ' + ev.reason : ''}`;
    setState('closed');
    logEvent(`closed: ${ev.code}${ev.reason ? ' ' + ev.reason : ''}${ev.unsent ? `, ${ev.unsent} unsent` : ''}`);
  };
}

function send(data) {
  if (!socket) return;
  try {
    socket.send(data);
  } catch (err) {
    logEvent(`send failed (${err.kind ?? 'error'}): ${err.message}`, 'error');
    return;
  }
  sent++;
  inflight.push(performance.now());
  // The SDK encodes asynchronously (it awaits the seal before writing), so
  // the row is queued in wire.outgoing before its encoded form is written.
  logMessage('out', data);
}

$('connect-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  connect();
});
$('disconnect').addEventListener('click', () => socket?.close(1000, 'bye from the demo page'));
$('text-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = $('text').value;
  if (text === '') return;
  send(text);
  $('text').value = '';
  $('text').focus();
});
$('send-binary').addEventListener('click', () => send(crypto.getRandomValues(new Uint8Array(1024)).buffer));
$('clear').addEventListener('click', () => {
  $('log').replaceChildren();
  $('empty').hidden = false;
});

// For the browser console and the end-to-end test.
window.socketxDemo = { SocketX, get socket() { return socket; }, connect };

setState('idle');
if (params.get('autoconnect') !== '0') connect();
