// SocketX demo page: connects through the proxy with the SDK bundle
// (socketx.js, built from sdk/js), sends text and binary messages to the echo
// upstream and logs each message with its round-trip time.
// Query parameters: proxy (default ws://<this host>:8080/), strength
// (512, 768, 1024, xwing or 0), serverKey (the base64 public key `socketx
// keygen` printed: pins the proxy, passed as the SDK's serverKeys),
// autoconnect=0 to wait for the Connect button.
import { SocketX } from './socketx.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const MAX_ROWS = 200;

let socket = null;
let sent = 0;
let received = 0;
const inflight = []; // send timestamps; the echo upstream answers in order

$('proxy').value = params.get('proxy') || `ws://${location.hostname || '127.0.0.1'}:8080/`;
if (['0', '512', '768', '1024', 'xwing'].includes(params.get('strength'))) $('strength').value = params.get('strength');
// A '+' in a query value that was not percent-encoded arrives as a space.
const serverKey = (params.get('serverKey') || '').trim().replace(/ /g, '+');
const NO_PIN = 'not authenticated (no pin)';

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

function clock() {
  const d = new Date();
  return d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

function preview(data) {
  if (typeof data === 'string') return data.length > 120 ? data.slice(0, 120) + '…' : data;
  const b = new Uint8Array(data);
  const hex = Array.from(b.subarray(0, 16), (x) => x.toString(16).padStart(2, '0')).join(' ');
  return b.length > 16 ? hex + ' …' : hex;
}

function row(cells, cls) {
  const tr = document.createElement('tr');
  if (cls) tr.className = cls;
  for (const [text, tdClass] of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    if (tdClass) td.className = tdClass;
    tr.append(td);
  }
  const log = $('log');
  log.prepend(tr);
  while (log.rows.length > MAX_ROWS) log.deleteRow(log.rows.length - 1);
  $('empty').hidden = true;
  $('stats').textContent = `${sent} sent · ${received} received`;
}

function logMessage(dir, data, rtt) {
  const text = typeof data === 'string';
  const size = text ? new TextEncoder().encode(data).length : data.byteLength;
  row([
    [clock()],
    [dir === 'out' ? '→ sent' : '← recv', `dir-${dir}`],
    [text ? 'text' : 'binary'],
    [`${size.toLocaleString()} B`, 'num'],
    [rtt === undefined ? '' : `${rtt.toFixed(1)} ms`, 'num'],
    [preview(data), 'content'],
  ], `msg-${dir}`);
}

function logEvent(text, cls = 'event') {
  row([[clock()], [''], [''], ['', 'num'], ['', 'num'], [text, 'content']], cls);
}

async function connect() {
  const url = $('proxy').value.trim();
  const kyberStrength = $('strength').value === 'xwing' ? 'xwing' : Number($('strength').value);
  const options = { kyberStrength, binaryType: 'arraybuffer', reconnect: { maxAttempts: 5 } };
  if (serverKey) options.serverKeys = [serverKey];
  setState('connecting');
  const t0 = performance.now();
  try {
    socket = await SocketX.connect(url, options);
  } catch (err) {
    socket = null;
    setState('error');
    $('server-auth').textContent = serverKey ? `not authenticated (${err.kind ?? 'error'}: ${err.message})` : NO_PIN;
    logEvent(`connect failed (${err.kind ?? 'error'}): ${err.message}`, 'error');
    return;
  }
  const pairing = performance.now() - t0;
  $('kex').textContent = socket.keyExchange + (socket.strength === 0 ? ' — not post-quantum' : '');
  $('server-auth').textContent = serverAuth(socket);
  $('eeid').textContent = socket.eeid;
  $('pairing').textContent = `${pairing.toFixed(0)} ms`;
  inflight.length = 0;
  setState('open');
  logEvent(`paired with ${socket.keyExchange}, eeid ${socket.eeid}, server ${serverAuth(socket)}`);
  const s = socket;
  s.onmessage = (ev) => {
    received++;
    const t = inflight.shift();
    logMessage('in', ev.data, t === undefined ? undefined : performance.now() - t);
  };
  s.onerror = (ev) => logEvent(`error (${ev.error.kind}): ${ev.error.message}`, 'error');
  s.onreconnecting = (ev) => {
    setState('reconnecting');
    logEvent(`connection lost (${ev.code}); reconnect attempt ${ev.attempt} in ${ev.delay} ms`);
  };
  s.onreconnected = (ev) => {
    inflight.length = 0;
    $('eeid').textContent = ev.eeid;
    $('server-auth').textContent = serverAuth(s);
    setState('open');
    logEvent(`re-paired, eeid ${ev.eeid}`);
  };
  s.onclose = (ev) => {
    if (socket === s) socket = null;
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
