// ChatKit sample page: a plain-JS client of the chatkit.v1 protocol (docs/protocol.md).
// All state lives in `state`; render* functions redraw parts of the page from it.
// Security: names, room names and bodies come from other users. They only ever reach the DOM as
// text (text nodes / textContent), never as HTML.

const KEYS = { session: 'chatkit.session', resume: 'chatkit.resume', outbox: 'chatkit.outbox', open: 'chatkit.open' };
const PAGE = 50;                 // messages per history page
const TYPING_EVERY_MS = 2000;    // send `typing` at most this often while the user types
const MAX_BACKOFF_MS = 10000;
const PING_EVERY_MS = 30000;     // also refreshes People (presence events only cover shared rooms)
const PING_TIMEOUT_MS = 10000;
const narrow = matchMedia('(max-width: 720px)');
const $ = (id) => document.getElementById(id);

let state = freshState();

function freshState(session = null) {
  const outbox = session ? load(KEYS.outbox, []) : [];
  for (const item of outbox) if (item.status === 'sending') item.status = 'queued';
  return {
    session,                          // { token, user, name }
    ws: null, ready: false,           // ready: the welcome arrived on this socket
    wasConnected: false, retryMs: 500, retryTimer: 0, pingTimer: 0,
    nextId: 1, inflight: new Map(),   // request id -> { resolve, reject }
    limits: { maxMessageBytes: 16384, typingTtlMs: 6000 },
    rooms: new Map(), openRoom: null, // room id -> RoomInfo + { messages: Map(seq -> Message), ... }
    users: new Map(), people: [], publicRooms: [],
    resume: session ? load(KEYS.resume, {}) : {}, // room -> highest seq seen, sent in hello.resume
    outbox,                           // sends without a seq yet: { cmid, room, body, status, createdAt }
    typing: new Map(),                // room -> Map(user -> expiry timer)
    readers: new Map(),               // room -> Map(user -> read seq), from other users' receipts
    typingSentAt: 0, typingRoom: null,
  };
}

// ---------- small helpers ----------

function load(key, fallback) {
  try { return JSON.parse(sessionStorage.getItem(key)) ?? fallback; } catch { return fallback; }
}
function save(key, value) {
  try { sessionStorage.setItem(key, JSON.stringify(value)); } catch { /* storage full/blocked: memory still works */ }
}
let resumeTimer = 0;
function saveResume() { clearTimeout(resumeTimer); resumeTimer = setTimeout(() => save(KEYS.resume, state.resume), 300); }
function saveOutbox() {
  save(KEYS.outbox, state.outbox.map(({ cmid, room, body, createdAt, status }) => ({ cmid, room, body, createdAt, status })));
}

// h('div', { class, testid, dataset, onclick, ...attributes }, ...children). Strings become text nodes.
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'testid') el.dataset.testid = value;
    else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) if (v != null) el.dataset[k] = String(v);
    } else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child != null && child !== false) el.append(child);
  return el;
}

const me = () => state.session?.user;
const currentRoom = () => state.rooms.get(state.openRoom) || null;
const nameOf = (id) => state.users.get(id)?.name || id;

function rememberUser(u) {
  if (!u || !u.user) return;
  const cur = state.users.get(u.user) || { user: u.user };
  if (u.name) cur.name = u.name;
  if ('online' in u) { cur.online = !!u.online; cur.lastSeen = u.lastSeen; }
  state.users.set(u.user, cur);
}

function newCmid() {
  // getRandomValues works on plain-http LAN addresses too, unlike crypto.randomUUID.
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return 'c-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'short', day: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const fmt = (f, iso) => { const d = new Date(iso); return isNaN(d) ? '' : f.format(d); };
function dayLabel(iso) {
  const d = new Date(iso), today = new Date();
  const yesterday = new Date(today); yesterday.setDate(today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return 'Today';
  if (d.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return fmt(dayFmt, iso);
}
function ago(iso) {
  const s = (Date.now() - new Date(iso)) / 1000;
  if (!(s >= 0)) return fmt(fullFmt, iso);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return 'on ' + fmt(fullFmt, iso);
}

// ---------- toasts ----------

function toast(text, kind = 'error', code) {
  const el = h('div', { class: `toast ${kind}`, testid: 'toast', role: kind === 'error' ? 'alert' : 'status',
    dataset: { code }, onclick: () => el.remove() }, text);
  $('toasts').append(el);
  setTimeout(() => el.classList.add('leaving'), 5000);
  setTimeout(() => el.remove(), 5400);
}
const toastError = (err) => toast(`${err.code || 'error'}: ${err.message || 'Something went wrong.'}`, 'error', err.code);
// Background requests (receipts, typing, pings) fail harmlessly while offline: only report real errors.
const quietError = (err) => { if (err.code !== 'offline' && err.code !== 'disconnected') toastError(err); };

// ---------- rendering (batched: many events in a row cause one redraw) ----------

const dirty = {};
let flushTimer = 0;
// parts: rooms, publicRooms, people, header, members, typing, messages (true | 'bottom' | 'prepend').
function refresh(parts) {
  for (const [k, v] of Object.entries(parts)) {
    if (!v) continue;
    dirty[k] = k === 'messages' && typeof dirty[k] === 'string' && v === true ? dirty[k] : v;
  }
  // setTimeout, not requestAnimationFrame: the title's unread count must update in background tabs too.
  flushTimer ||= setTimeout(flush, 16);
}
const refreshAll = (messages = 'bottom') =>
  refresh({ rooms: true, publicRooms: true, people: true, header: true, members: true, typing: true, messages });

function flush() {
  flushTimer = 0;
  const d = { ...dirty };
  for (const k of Object.keys(dirty)) delete dirty[k];
  if (!state.session) return;
  if (d.rooms) renderRoomList();
  if (d.publicRooms) renderPublicRooms();
  if (d.people) renderPeople();
  if (d.header) renderHeader();
  if (d.members) renderMembers();
  if (d.typing) renderTyping();
  if (d.messages) { renderMessages(d.messages); afterMessagesRendered(); }
}

function hue(seed) { let n = 0; for (const c of String(seed)) n = (n * 31 + c.codePointAt(0)) % 360; return n; }
function initials(label) {
  return String(label || '?').trim().split(/\s+/).slice(0, 2).map((w) => [...w][0] || '').join('').toUpperCase() || '?';
}
function avatar(seed, label, presenceUser) {
  const el = h('span', { class: 'avatar' }, h('span', { 'aria-hidden': 'true' }, initials(label)));
  el.style.setProperty('--hue', String(hue(seed)));
  if (presenceUser) el.append(presenceDot(presenceUser));
  return el;
}
function presenceText(userId) {
  const u = state.users.get(userId) || {};
  if (u.online) return 'Online';
  return u.lastSeen ? `Last seen ${ago(u.lastSeen)}` : 'Offline';
}
function presenceDot(userId) {
  const online = !!state.users.get(userId)?.online;
  const title = presenceText(userId);
  return h('span', { class: `presence-dot ${online ? 'online' : 'offline'}`, testid: 'presence-dot',
    dataset: { online, user: userId }, title, role: 'img', 'aria-label': title });
}

function typingNames(roomId) {
  return [...(state.typing.get(roomId)?.keys() || [])].map(nameOf);
}

function renderRoomList() {
  const rooms = [...state.rooms.values()].sort((a, b) => activity(b).localeCompare(activity(a)));
  $('room-list').replaceChildren(...rooms.map(roomItem));
  $('room-list-empty').hidden = rooms.length > 0;
  const total = rooms.reduce((n, r) => n + (r.unread || 0), 0);
  document.title = total ? `(${total}) ChatKit` : 'ChatKit';
}
const activity = (room) => room.last?.sentAt || room.createdAt || '';

function roomItem(room) {
  const typers = typingNames(room.id);
  const direct = room.kind === 'direct';
  let sub = direct ? 'Direct message' : room.visibility === 'private' ? 'Private room' : 'Public room';
  if (room.last) sub = (room.last.sender === me() ? 'You: ' : direct ? '' : nameOf(room.last.sender) + ': ') + room.last.body;
  if (typers.length) sub = typers.length === 1 ? `${typers[0]} is typing…` : 'Several people are typing…';
  const unread = room.unread || 0;
  return h('li', { class: `room-item${room.id === state.openRoom ? ' active' : ''}${unread ? ' has-unread' : ''}`,
    testid: 'room-item', dataset: { roomId: room.id, kind: room.kind } },
  h('button', { type: 'button', class: 'item-btn', onclick: () => openRoom(room.id), 'aria-current': room.id === state.openRoom ? 'true' : null },
    avatar(direct ? room.peer : room.id, room.name, direct ? room.peer : null),
    h('span', { class: 'item-main' },
      h('span', { class: 'item-name', testid: 'room-name' }, room.name || room.id),
      h('span', { class: `item-sub${typers.length ? ' typing' : ''}` }, sub)),
    unread ? h('span', { class: 'unread-badge', testid: 'unread-badge', 'aria-label': `${unread} unread` },
      unread > 99 ? '99+' : String(unread)) : null));
}

function renderPublicRooms() {
  const rooms = state.publicRooms.filter((r) => !state.rooms.has(r.id));
  $('public-room-list').replaceChildren(...rooms.map((room) =>
    h('li', { class: 'public-item', testid: 'public-room-item', dataset: { roomId: room.id } },
      avatar(room.id, room.name),
      h('span', { class: 'item-main' }, h('span', { class: 'item-name' }, room.name || room.id)),
      h('button', { type: 'button', class: 'small-btn', testid: 'public-room-join', onclick: () => joinRoom(room.id) }, 'Join'))));
  $('public-empty').hidden = rooms.length > 0;
}

function renderPeople() {
  const ids = state.people.filter((id) => id !== me());
  $('people-list').replaceChildren(...ids.map((id) =>
    h('li', { class: 'person', testid: 'person', dataset: { userId: id } },
      h('button', { type: 'button', class: 'item-btn', title: `Message ${nameOf(id)} · ${presenceText(id)}`, onclick: () => openDirect(id) },
        avatar(id, nameOf(id), id),
        h('span', { class: 'item-main' },
          h('span', { class: 'item-name', testid: 'person-name' }, nameOf(id)),
          h('span', { class: 'item-sub' }, presenceText(id)))))));
  $('people-empty').hidden = ids.length > 0;
}

function renderHeader() {
  const room = currentRoom();
  $('no-room').hidden = !!room;
  $('room-view').hidden = !room;
  document.body.classList.toggle('show-chat', !!room);
  $('me-name').textContent = state.session?.name || '';
  const meAvatar = $('me-avatar');
  meAvatar.textContent = initials(state.session?.name);
  meAvatar.style.setProperty('--hue', String(hue(me())));
  if (!room) return;
  $('room-title').textContent = room.name || room.id;
  const count = room.members ? room.members.size : null;
  $('room-subtitle').textContent = room.kind === 'direct' ? presenceText(room.peer)
    : `${room.visibility === 'private' ? 'Private' : 'Public'} room${count != null ? ` · ${count} member${count === 1 ? '' : 's'}` : ''}`;
  $('members-toggle').textContent = count != null ? `Members (${count})` : 'Members';
}

function renderMembers() {
  const room = currentRoom();
  if (!room) return;
  const order = { owner: 0, admin: 1, member: 2 };
  const members = room.members ? [...room.members.values()]
    .sort((a, b) => (order[a.role] ?? 3) - (order[b.role] ?? 3) || nameOf(a.user).localeCompare(nameOf(b.user))) : [];
  $('member-list').replaceChildren(...members.map((m) =>
    h('li', { class: 'member', testid: 'member', dataset: { userId: m.user, role: m.role } },
      avatar(m.user, nameOf(m.user), m.user),
      h('span', { class: 'item-main' },
        h('span', { class: 'item-name' }, nameOf(m.user), m.user === me() ? ' (you)' : ''),
        h('span', { class: 'item-sub' }, m.role === 'member' ? presenceText(m.user) : `${m.role} · ${presenceText(m.user)}`)),
      canRemove(room, m) ? h('button', { type: 'button', class: 'link danger', testid: 'member-remove',
        onclick: () => removeMember(room, m.user) }, 'Remove') : null)));
  const manager = room.kind === 'group' && (room.role === 'owner' || room.role === 'admin');
  $('invite-form').hidden = !manager;
  $('invite-role').hidden = room.role !== 'owner'; // only the owner may invite admins
  $('leave-room').hidden = room.kind !== 'group' || room.role === 'owner';
  $('members-note').textContent = room.kind === 'direct' ? 'Direct conversations have fixed members.'
    : room.role === 'owner' ? 'You own this room, so you cannot leave it.' : '';
  $('known-users').replaceChildren(...[...state.users.values()]
    .filter((u) => !room.members?.has(u.user)).map((u) => h('option', { value: u.user }, u.name || u.user)));
}
function canRemove(room, m) {
  if (room.kind !== 'group' || m.user === me() || m.role === 'owner') return false;
  return room.role === 'owner' || (room.role === 'admin' && m.role === 'member');
}

function renderTyping() {
  const names = state.openRoom ? typingNames(state.openRoom) : [];
  const el = $('typing');
  el.hidden = names.length === 0;
  el.textContent = names.length === 1 ? `${names[0]} is typing…`
    : names.length === 2 ? `${names[0]} and ${names[1]} are typing…`
      : names.length ? 'Several people are typing…' : '';
}

const sortedMessages = (room) => [...room.messages.values()].sort((a, b) => a.seq - b.seq);
const isAtBottom = (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 40;

// anchor: 'bottom' scrolls to the end; 'prepend' keeps the view still while older messages are added
// above; otherwise stay at the bottom if we were there, else keep the scroll position.
function renderMessages(anchor) {
  const list = $('message-list');
  const room = currentRoom();
  if (!room) { list.replaceChildren(); return; }
  const wasAtBottom = isAtBottom(list);
  const fromBottom = list.scrollHeight - list.scrollTop, top = list.scrollTop;
  const messages = sortedMessages(room);
  const nodes = [];
  if (!room.loaded && !messages.length) nodes.push(h('div', { class: 'history-status' }, 'Loading messages…'));
  else if (room.loadingOlder) nodes.push(h('div', { class: 'history-status', testid: 'history-loading' }, 'Loading older messages…'));
  else if (room.loaded && !room.hasMore) {
    nodes.push(h('div', { class: 'history-status' }, messages.length ? 'This is the beginning of the conversation.' : 'No messages yet. Say hello!'));
  }
  let lastOwn = null;
  for (const m of messages) if (m.sender === me()) lastOwn = m;
  let prev = null;
  for (const m of messages) {
    if (!prev || dayLabel(prev.sentAt) !== dayLabel(m.sentAt)) nodes.push(h('div', { class: 'day' }, dayLabel(m.sentAt)));
    nodes.push(messageNode(m, prev));
    if (m === lastOwn) nodes.push(readReceiptNode(room, m));
    prev = m;
  }
  for (const item of state.outbox) {
    if (item.room !== room.id) continue;
    nodes.push(pendingNode(item, prev));
    prev = { sender: me(), sentAt: item.createdAt };
  }
  list.replaceChildren(...nodes.filter(Boolean));
  if (anchor === 'bottom' || (anchor !== 'prepend' && wasAtBottom)) list.scrollTop = list.scrollHeight;
  else if (anchor === 'prepend') list.scrollTop = list.scrollHeight - fromBottom;
  else list.scrollTop = top;
}

function messageNode(m, prev, status = 'sent') {
  const own = m.sender === me();
  // Consecutive messages from one sender within 5 minutes share one name/time line.
  const grouped = prev && prev.sender === m.sender && dayLabel(prev.sentAt) === dayLabel(m.sentAt)
    && new Date(m.sentAt) - new Date(prev.sentAt) < 5 * 60e3;
  return h('div', { class: `msg${own ? ' own' : ''}${grouped ? ' grouped' : ''} ${status}`, testid: 'message',
    dataset: { seq: m.seq, cmid: m.cmid, sender: m.sender, status } },
  h('div', { class: 'meta' },
    h('span', { class: 'sender', testid: 'message-sender' }, nameOf(m.sender)),
    h('time', { testid: 'message-time', datetime: m.sentAt, title: fmt(fullFmt, m.sentAt) }, fmt(timeFmt, m.sentAt))),
  h('div', { class: 'bubble', testid: 'message-body', title: fmt(fullFmt, m.sentAt) }, m.body));
}

function pendingNode(item, prev) {
  const failed = item.status === 'failed';
  const el = messageNode({ sender: me(), cmid: item.cmid, body: item.body, sentAt: item.createdAt }, prev, failed ? 'failed' : 'pending');
  el.append(failed
    ? h('div', { class: 'msg-status' }, `Not sent${item.error ? ` (${item.error})` : ''} · `,
      h('button', { type: 'button', class: 'link', testid: 'message-retry', onclick: () => { item.status = 'queued'; trySend(item); } }, 'Retry'), ' · ',
      h('button', { type: 'button', class: 'link', testid: 'message-discard', onclick: () => discardSend(item) }, 'Discard'))
    : h('div', { class: 'msg-status' }, state.ready ? 'Sending…' : 'Waiting for connection…'));
  return el;
}

// "Read by …" under the last own message, from the members' read positions and their receipts since.
function readReceiptNode(room, lastOwn) {
  const names = [...(state.readers.get(room.id) || [])]
    .filter(([user, seq]) => user !== me() && seq >= lastOwn.seq).map(([user]) => nameOf(user));
  if (!names.length) return null;
  const text = names.length <= 3 ? names.join(', ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} others`;
  return h('div', { class: 'read-receipt', testid: 'read-receipt' }, `Read by ${text}`);
}

function afterMessagesRendered() {
  const room = currentRoom(), list = $('message-list');
  if (!room) return;
  if (isAtBottom(list)) $('new-messages').hidden = true;
  // A short first page may not fill the pane, so no scroll event would ever ask for more.
  if (room.loaded && room.hasMore && list.scrollHeight <= list.clientHeight + 80) loadOlder(room);
  scheduleReceipt();
}

// ---------- connection ----------

function connect() {
  clearTimeout(state.retryTimer);
  if (!state.session || state.ws) return;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${location.host}/chat?access_token=${encodeURIComponent(state.session.token)}`;
  setStatus('Connecting…');
  let ws;
  try { ws = new WebSocket(url, 'chatkit.v1'); } catch { scheduleReconnect(); return; }
  let opened = false;
  state.ws = ws;
  ws.onopen = () => { opened = true; sendHello(ws); };
  ws.onmessage = (e) => onFrame(ws, e.data);
  ws.onclose = (e) => onClose(ws, e.code, opened);
}

async function sendHello(ws) {
  try {
    onWelcome(await request('hello', { resume: state.resume }, true));
  } catch (err) {
    quietError(err);
    if (ws === state.ws) dropSocket(ws);
  }
}

// Sends a request; resolves with its reply, rejects with its error frame (or a local offline error).
function request(type, fields = {}, beforeWelcome = false) {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN || (!state.ready && !beforeWelcome)) {
    return Promise.reject({ code: 'offline', message: 'Not connected; try again in a moment.' });
  }
  const id = String(state.nextId++);
  return new Promise((resolve, reject) => {
    state.inflight.set(id, { resolve, reject });
    ws.send(JSON.stringify({ type, id, ...fields }));
  });
}

function onFrame(ws, data) {
  if (ws !== state.ws) return;
  let frame;
  try { frame = JSON.parse(data); } catch { return; }
  if (!frame || typeof frame !== 'object') return;
  if (frame.type === 'reply' || frame.type === 'error') {
    const pending = frame.re != null ? state.inflight.get(frame.re) : null;
    if (pending) {
      state.inflight.delete(frame.re);
      (frame.type === 'reply' ? pending.resolve : pending.reject)(frame);
    } else if (frame.type === 'error') toastError(frame);
    return;
  }
  const handler = eventHandlers[frame.type];
  if (!handler) { console.debug('ChatKit: ignoring event', frame.type); return; } // newer server: fine
  try { handler(frame); } catch (err) { console.error('ChatKit: event handler failed', frame, err); }
}

function onClose(ws, code, opened) {
  if (ws !== state.ws) return; // an old socket, or we closed it on purpose (sign-out)
  state.ws = null;
  state.ready = false;
  clearInterval(state.pingTimer);
  const inflight = [...state.inflight.values()];
  state.inflight.clear();
  for (const p of inflight) p.reject({ code: 'disconnected', message: 'The connection was lost.' });
  clearAllTyping();
  if (code === 4002) toast('The server does not speak chatkit.v1.', 'error', 'unsupported_protocol');
  refresh({ messages: true });
  // A refused handshake (e.g. HTTP 401) looks like any network failure to a browser; ask over HTTP.
  if (!opened) checkSessionThenRetry(); else scheduleReconnect();
}

// Ends a socket now, without waiting for a closing handshake that may never come.
function dropSocket(ws) {
  ws.onclose = ws.onmessage = null;
  try { ws.close(); } catch { /* already closed */ }
  onClose(ws, 0, true);
}

async function checkSessionThenRetry() {
  const token = state.session?.token;
  try {
    const res = await fetch('/chat/rooms', { headers: { Authorization: `Bearer ${token}` } });
    if (res.status === 401 && state.session?.token === token) { signOut('Your session has expired. Please sign in again.'); return; }
  } catch { /* server unreachable: just retry */ }
  if (state.session?.token === token) scheduleReconnect();
}

function scheduleReconnect() {
  if (!state.session) return;
  const delay = state.retryMs;
  state.retryMs = Math.min(state.retryMs * 2, MAX_BACKOFF_MS);
  $('reconnecting-banner').hidden = false;
  $('reconnecting-text').textContent = `Reconnecting… (next try in ${delay < 1000 ? delay + ' ms' : Math.round(delay / 1000) + ' s'})`;
  setStatus('Offline');
  clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(connect, delay);
}

function setStatus(text) {
  const el = $('connection-status');
  el.textContent = text;
  el.dataset.status = text === 'Online' ? 'online' : 'offline';
}

function onWelcome(w) {
  const first = !state.wasConnected;
  state.ready = true;
  state.wasConnected = true;
  state.retryMs = 500;
  $('reconnecting-banner').hidden = true;
  setStatus('Online');
  Object.assign(state.limits, w.limits || {});
  state.session = { ...state.session, user: w.user, name: w.name };
  save(KEYS.session, state.session);
  rememberUser({ user: w.user, name: w.name, online: true });

  const rooms = w.rooms || [];
  const ids = new Set(rooms.map((r) => r.id));
  for (const id of [...state.rooms.keys()]) if (!ids.has(id)) dropRoom(id); // left/removed while away
  for (const info of rooms) upsertRoom(info);

  // Retry unconfirmed sends with their original cmid: the server stores each cmid once.
  for (const item of state.outbox) if (item.status === 'queued') trySend(item);
  startPing();
  refreshPeople();
  refreshPublicRooms();
  refreshPresence([...state.rooms.values()].filter((r) => r.peer).map((r) => r.peer));

  if (first) {
    const saved = load(KEYS.open, null); // reopen the room this tab showed before a reload
    if (saved && state.rooms.has(saved)) openRoom(saved);
  } else if (currentRoom()) {
    if (!currentRoom().loaded) loadNewest(currentRoom());
    loadMembers(currentRoom()); // members may have changed while we were away
  }
  refreshAll(first ? 'bottom' : true); // after a reconnect, keep the reader's scroll position
}

function startPing() {
  clearInterval(state.pingTimer);
  state.pingTimer = setInterval(() => {
    const ws = state.ws;
    if (!state.ready) return;
    // A half-open connection never closes by itself: no pong in time means reconnect.
    const timer = setTimeout(() => { if (ws === state.ws) dropSocket(ws); }, PING_TIMEOUT_MS);
    request('ping').finally(() => clearTimeout(timer)).catch(() => {});
    refreshPeople();
  }, PING_EVERY_MS);
}

// ---------- rooms and messages ----------

function upsertRoom(info) {
  let room = state.rooms.get(info.id);
  if (!room) {
    room = { messages: new Map(), loaded: false, hasMore: true, members: null, last: null, draft: '' };
    state.rooms.set(info.id, room);
  }
  Object.assign(room, info, { latestSeq: Math.max(room.latestSeq || 0, info.latestSeq || 0) });
  if (info.kind === 'direct' && info.peer) rememberUser({ user: info.peer, name: info.name });
  // From now on this connection receives the room live; a later resume asks for what follows.
  if (state.resume[info.id] == null) { state.resume[info.id] = info.latestSeq || 0; saveResume(); }
  return room;
}

function dropRoom(id, reason) {
  const room = state.rooms.get(id);
  if (!room) return;
  state.rooms.delete(id);
  delete state.resume[id];
  saveResume();
  state.readers.delete(id);
  for (const timer of state.typing.get(id)?.values() || []) clearTimeout(timer);
  state.typing.delete(id);
  state.outbox = state.outbox.filter((item) => item.room !== id);
  saveOutbox();
  if (state.openRoom === id) closeRoom();
  if (reason === 'removed') toast(`You were removed from ${room.name}.`, 'info');
  refresh({ rooms: true, publicRooms: true });
}

// Adds messages to the room's cache; the cache is keyed by seq, so repeats are harmless.
function addMessages(room, messages) {
  for (const m of messages) {
    if (!room.messages.has(m.seq)) room.messages.set(m.seq, m);
    if (!room.last || m.seq > room.last.seq) room.last = m;
  }
}

// Resume positions only move on `message` events and history pages: both mean every earlier
// message was received. A send reply's seq does not (an earlier event may still be on its way).
function rememberSeen(roomId, seq) {
  if (seq > (state.resume[roomId] ?? -1)) { state.resume[roomId] = seq; saveResume(); }
}

function onMessageEvent(m) {
  const room = state.rooms.get(m.room);
  if (!room) return;
  const fresh = m.seq > (room.latestSeq || 0); // replays after a resume are already in welcome's unread
  addMessages(room, [m]);
  rememberSeen(room.id, m.seq);
  settleOutbox(m.cmid, m.sender);
  clearTyper(room.id, m.sender); // sending ends typing
  const open = room.id === state.openRoom;
  if (fresh) {
    room.latestSeq = m.seq;
    if (m.sender === me()) { room.readSeq = Math.max(room.readSeq || 0, m.seq); room.unread = 0; } // send marks read
    else if (!isViewing(room)) room.unread = (room.unread || 0) + 1;
    if (open && m.sender !== me() && !isAtBottom($('message-list'))) $('new-messages').hidden = false;
  }
  refresh({ rooms: true, messages: open, typing: open });
}

function isViewing(room) {
  return room.id === state.openRoom && document.visibilityState === 'visible' && isAtBottom($('message-list'));
}

function openRoom(id) {
  const room = state.rooms.get(id);
  if (!room) return;
  if (state.openRoom !== id) {
    stopTyping();
    const prev = currentRoom();
    if (prev) prev.draft = $('composer').value;
    $('composer').value = room.draft || '';
    autosize();
    $('new-messages').hidden = true;
    if (narrow.matches) toggleMembers(false);
  }
  state.openRoom = id;
  save(KEYS.open, id);
  refresh({ rooms: true, header: true, members: true, typing: true, messages: 'bottom' });
  if (!room.loaded) loadNewest(room);
  loadMembers(room);
  if (!narrow.matches) $('composer').focus();
}

function closeRoom() {
  stopTyping();
  const room = currentRoom();
  if (room) room.draft = $('composer').value;
  state.openRoom = null;
  sessionStorage.removeItem(KEYS.open);
  toggleMembers(false);
  refresh({ rooms: true, header: true, typing: true, messages: true });
}

async function loadNewest(room) {
  if (room.loadingNewest) return;
  room.loadingNewest = true;
  try {
    const r = await request('history', { room: room.id, limit: PAGE });
    const messages = r.messages || [];
    addMessages(room, messages);
    for (const m of messages) { rememberSeen(room.id, m.seq); room.latestSeq = Math.max(room.latestSeq || 0, m.seq); }
    room.loaded = true;
    room.hasMore = !!r.hasMore;
    refresh({ rooms: true, messages: room.id === state.openRoom ? 'bottom' : false });
  } catch (err) { quietError(err); } finally { room.loadingNewest = false; }
}

async function loadOlder(room) {
  if (!state.ready || room.loadingOlder || !room.loaded || !room.hasMore) return;
  if (Date.now() < (room.olderRetryAt || 0)) return;
  const lowest = room.messages.size ? Math.min(...room.messages.keys()) : 0;
  if (lowest <= 1) { room.hasMore = false; refresh({ messages: 'prepend' }); return; }
  room.loadingOlder = true;
  refresh({ messages: 'prepend' });
  try {
    const r = await request('history', { room: room.id, before: lowest, limit: PAGE });
    addMessages(room, r.messages || []);
    room.hasMore = !!r.hasMore;
  } catch (err) {
    quietError(err);
    room.olderRetryAt = Date.now() + 5000; // the next scroll may retry; no tight retry loop
  } finally {
    room.loadingOlder = false;
    if (room.id === state.openRoom) refresh({ messages: 'prepend' });
  }
}

async function loadMembers(room) {
  try {
    const r = await request('members.list', { room: room.id });
    room.members = new Map((r.members || []).map((m) => [m.user, m]));
    for (const m of r.members || []) rememberUser({ user: m.user, name: m.name });
    // Members carry their read positions, so "Read by" survives a reload; receipt events keep it current.
    let readers = state.readers.get(room.id);
    if (!readers) state.readers.set(room.id, (readers = new Map()));
    for (const m of r.members || []) if ((m.readSeq || 0) > (readers.get(m.user) || 0)) readers.set(m.user, m.readSeq);
    refreshPresence([...room.members.keys()].filter((u) => !('online' in (state.users.get(u) || {}))));
    if (room.id === state.openRoom) refresh({ header: true, members: true, messages: true });
  } catch (err) { quietError(err); }
}

// ---------- sending ----------

function submitComposer(event) {
  event?.preventDefault();
  const room = currentRoom(), box = $('composer');
  const body = box.value.replace(/\s+$/, '');
  if (!room || !body.trim()) return;
  const bytes = new TextEncoder().encode(body).length;
  if (bytes > state.limits.maxMessageBytes) {
    toast(`That message is too long (${bytes} of ${state.limits.maxMessageBytes} bytes).`, 'error', 'message_too_large');
    return;
  }
  box.value = '';
  room.draft = '';
  autosize();
  state.typingSentAt = 0; // the server ends our typing indicator when the message arrives
  const item = { cmid: newCmid(), room: room.id, body, status: 'queued', createdAt: new Date().toISOString() };
  state.outbox.push(item);
  saveOutbox();
  refresh({ messages: 'bottom' });
  trySend(item);
}

function trySend(item) {
  if (!state.ready || item.status !== 'queued') return; // otherwise the next welcome sends it
  item.status = 'sending';
  request('send', { room: item.room, cmid: item.cmid, body: item.body })
    .then((reply) => confirmSend(item, reply), (err) => sendFailed(item, err));
  refresh({ messages: item.room === state.openRoom });
}

function confirmSend(item, reply) {
  settleOutbox(item.cmid, me());
  const room = state.rooms.get(reply.room);
  if (!room) return;
  addMessages(room, [{ room: reply.room, seq: reply.seq, cmid: reply.cmid, sender: me(), body: item.body, sentAt: reply.sentAt }]);
  room.latestSeq = Math.max(room.latestSeq || 0, reply.seq);
  room.readSeq = Math.max(room.readSeq || 0, reply.seq); // a send marks the room read for the sender
  if (room.readSeq >= room.latestSeq) room.unread = 0;
  refresh({ rooms: true, messages: room.id === state.openRoom });
}

function sendFailed(item, err) {
  if (!state.outbox.includes(item)) return;
  if (err.code === 'offline' || err.code === 'disconnected') {
    item.status = 'queued'; // sent again after the next welcome
  } else if (err.code === 'rate_limited' || err.code === 'unavailable') {
    item.status = 'queued'; // nothing was stored: retrying the same cmid is safe
    setTimeout(() => trySend(item), err.retryAfterMs || 2000);
  } else {
    item.status = 'failed';
    item.error = err.code;
    toastError(err);
  }
  saveOutbox();
  refresh({ messages: item.room === state.openRoom });
}

function settleOutbox(cmid, sender) {
  if (sender !== me()) return;
  const before = state.outbox.length;
  state.outbox = state.outbox.filter((item) => item.cmid !== cmid);
  if (state.outbox.length !== before) saveOutbox();
}

function discardSend(item) {
  state.outbox = state.outbox.filter((i) => i !== item);
  saveOutbox();
  refresh({ messages: true });
}

// ---------- typing ----------

function onComposerInput() {
  autosize();
  const room = currentRoom();
  if (!room || !state.ready) return;
  if (!$('composer').value.trim()) { stopTyping(); return; }
  if (Date.now() - state.typingSentAt >= TYPING_EVERY_MS) {
    state.typingSentAt = Date.now();
    state.typingRoom = room.id;
    request('typing', { room: room.id, active: true }).catch(quietError);
  }
}

function stopTyping() {
  if (state.typingSentAt && state.typingRoom) request('typing', { room: state.typingRoom, active: false }).catch(quietError);
  state.typingSentAt = 0;
  state.typingRoom = null;
}

function onTypingEvent(e) {
  if (e.user === me()) return;
  let map = state.typing.get(e.room);
  if (!map) state.typing.set(e.room, (map = new Map()));
  clearTimeout(map.get(e.user));
  map.delete(e.user);
  // Expire locally too, in case the active:false event is lost with a dropped connection.
  if (e.active !== false) map.set(e.user, setTimeout(() => clearTyper(e.room, e.user), state.limits.typingTtlMs + 2000));
  refresh({ rooms: true, typing: true });
}

function clearTyper(roomId, user) {
  const map = state.typing.get(roomId);
  if (!map?.has(user)) return;
  clearTimeout(map.get(user));
  map.delete(user);
  refresh({ rooms: true, typing: true });
}

function clearAllTyping() {
  for (const map of state.typing.values()) for (const timer of map.values()) clearTimeout(timer);
  state.typing.clear();
  refresh({ rooms: true, typing: true });
}

function autosize() {
  const box = $('composer');
  box.style.height = ''; // back to one row
  // Grow with the text (up to the CSS max-height); a hidden box has no scrollHeight to measure.
  if (box.value && box.offsetParent) box.style.height = box.scrollHeight + box.offsetHeight - box.clientHeight + 'px';
}

// ---------- receipts ----------

let receiptTimer = 0;
function scheduleReceipt() { clearTimeout(receiptTimer); receiptTimer = setTimeout(sendReadReceipt, 300); }

function sendReadReceipt() {
  const room = currentRoom();
  if (!room || !state.ready || !room.messages.size || !isViewing(room)) return;
  const seq = Math.max(...room.messages.keys());
  if (seq <= Math.max(room.readSeq || 0, room.readSent || 0)) return;
  room.readSent = seq;
  request('receipt', { room: room.id, seq, kind: 'read' })
    .then((r) => {
      room.readSeq = Math.max(room.readSeq || 0, r.readSeq || 0);
      room.unread = r.unread ?? 0;
      refresh({ rooms: true });
    }, (err) => { room.readSent = 0; quietError(err); });
}

function onReceiptEvent(e) {
  const room = state.rooms.get(e.room);
  if (!room || e.kind !== 'read') return;
  if (e.user === me()) { // read on another device/tab
    if (e.seq > (room.readSeq || 0)) {
      room.readSeq = e.seq;
      room.unread = Math.max(0, (room.latestSeq || 0) - e.seq);
      refresh({ rooms: true });
    }
    return;
  }
  let map = state.readers.get(e.room);
  if (!map) state.readers.set(e.room, (map = new Map()));
  if (e.seq > (map.get(e.user) || 0)) map.set(e.user, e.seq);
  refresh({ messages: room.id === state.openRoom });
}

// ---------- other events ----------

const eventHandlers = {
  message: onMessageEvent,
  typing: onTypingEvent,
  receipt: onReceiptEvent,
  'room.added': (e) => { if (e.info) { upsertRoom(e.info); refresh({ rooms: true, publicRooms: true }); } },
  'room.removed': (e) => dropRoom(e.room, e.reason),
  'member.joined': (e) => {
    if (!e.member) return;
    rememberUser({ user: e.member.user, name: e.member.name });
    state.rooms.get(e.room)?.members?.set(e.member.user, e.member);
    if (!state.people.includes(e.member.user)) refreshPeople(); // someone new: People is stale
    refresh({ header: true, members: true, people: true });
  },
  'member.left': (e) => {
    const room = state.rooms.get(e.room);
    room?.members?.delete(e.user);
    state.readers.get(e.room)?.delete(e.user);
    clearTyper(e.room, e.user);
    refresh({ header: true, members: true, messages: e.room === state.openRoom });
  },
  presence: (p) => { rememberUser(p); refresh({ people: true, rooms: true, header: true, members: true }); },
};

// ---------- sidebar actions ----------

let searchSeq = 0;
async function refreshPeople() {
  const mine = ++searchSeq; // answers to older searches are dropped
  try {
    const r = await request('users.search', { query: $('people-search').value.trim(), limit: 50 });
    if (mine !== searchSeq) return;
    for (const u of r.users || []) rememberUser(u);
    state.people = (r.users || []).map((u) => u.user);
    refresh({ people: true, rooms: true, header: true, members: true });
  } catch (err) { quietError(err); }
}

async function refreshPublicRooms() {
  try {
    const r = await request('rooms.public', { limit: 50 });
    state.publicRooms = r.rooms || [];
    refresh({ publicRooms: true });
  } catch (err) { quietError(err); }
}

async function refreshPresence(users) {
  const ids = [...new Set(users)].slice(0, 100);
  if (!ids.length) return;
  try {
    const r = await request('presence', { users: ids });
    for (const p of r.presence || []) rememberUser(p);
    refresh({ people: true, rooms: true, header: true, members: true });
  } catch (err) { quietError(err); }
}

// Runs a user action; any error goes to a toast. Returns the reply or undefined.
async function act(type, fields) {
  try { return await request(type, fields); } catch (err) { toastError(err); return undefined; }
}

async function createRoom(event) {
  event.preventDefault();
  const name = $('new-room-name').value.trim();
  if (!name) return;
  const r = await act('rooms.create', { name, visibility: $('new-room-visibility').value });
  if (!r) return;
  $('new-room-name').value = '';
  $('new-room').open = false;
  upsertRoom(r.info);
  openRoom(r.info.id);
  refreshPublicRooms();
}

async function joinRoom(id) {
  const r = await act('rooms.join', { room: id });
  if (r) { upsertRoom(r.info); openRoom(r.info.id); }
}

async function openDirect(user) {
  const r = await act('rooms.direct', { user });
  if (r) { upsertRoom(r.info); openRoom(r.info.id); }
}

async function invite(event) {
  event.preventDefault();
  const room = currentRoom();
  const raw = $('invite-user').value.trim();
  if (!room || !raw) return;
  const user = await resolveUser(raw);
  const fields = { room: room.id, user };
  if (room.role === 'owner') fields.role = $('invite-role').value;
  const r = await act('members.invite', fields);
  if (!r) return;
  $('invite-user').value = '';
  rememberUser({ user: r.member.user, name: r.member.name });
  room.members?.set(r.member.user, r.member);
  toast(`${r.member.name || r.member.user} was added.`, 'info');
  refresh({ header: true, members: true });
}

// Accepts a user id or a display name (case-insensitive); unknown names are looked up on the server.
async function resolveUser(raw) {
  if (state.users.has(raw)) return raw;
  const byName = (list) => list.find((u) => u.name?.toLowerCase() === raw.toLowerCase());
  const known = byName([...state.users.values()]);
  if (known) return known.user;
  try {
    const r = await request('users.search', { query: raw, limit: 10 });
    for (const u of r.users || []) rememberUser(u);
    const found = byName(r.users || []) || (r.users?.length === 1 ? r.users[0] : null);
    if (found) return found.user;
  } catch { /* fall back to treating it as an id; the invite reports not_found */ }
  return raw;
}

async function removeMember(room, user) {
  if (!confirm(`Remove ${nameOf(user)} from ${room.name}?`)) return;
  if (await act('members.remove', { room: room.id, user }) === undefined) return;
  room.members?.delete(user);
  refresh({ header: true, members: true });
}

async function leaveRoom() {
  const room = currentRoom();
  if (!room || !confirm(`Leave ${room.name}?`)) return;
  if (await act('rooms.leave', { room: room.id }) === undefined) return;
  dropRoom(room.id);
  refreshPublicRooms();
}

function toggleMembers(show = $('members-panel').hidden) {
  $('members-panel').hidden = !show;
  $('members-toggle').setAttribute('aria-expanded', String(show));
}

// ---------- sign-in / sign-out ----------

async function signIn(event) {
  event.preventDefault();
  const name = $('signin-name').value.trim();
  showSigninError('');
  if (!name) { showSigninError('Please enter a display name.'); return; }
  $('signin-submit').disabled = true;
  try {
    const res = await fetch('/dev/signin', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok || !body.token) { showSigninError(body.message || `Sign-in failed (HTTP ${res.status}).`); return; }
    save(KEYS.session, body);
    enterApp(body);
  } catch {
    showSigninError('Cannot reach the server. Is it running?');
  } finally {
    $('signin-submit').disabled = false;
  }
}

function showSigninError(text) {
  $('signin-error').textContent = text;
  $('signin-error').hidden = !text;
}

function enterApp(session) {
  state = freshState(session);
  rememberUser({ user: session.user, name: session.name });
  $('signin-view').hidden = true;
  $('app-view').hidden = false;
  refreshAll();
  connect();
}

function signOut(notice = '') {
  const old = state;
  state = freshState(); // old sockets and timers now see a different state and stay quiet
  clearTimeout(old.retryTimer);
  clearInterval(old.pingTimer);
  clearAllTypingOf(old);
  if (old.ws) { try { old.ws.close(1000); } catch { /* already closed */ } }
  for (const key of Object.values(KEYS)) sessionStorage.removeItem(key);
  document.body.classList.remove('show-chat');
  document.title = 'ChatKit';
  $('app-view').hidden = true;
  $('signin-view').hidden = false;
  $('reconnecting-banner').hidden = true;
  $('composer').value = '';
  showSigninError(notice);
  $('signin-name').focus();
}
function clearAllTypingOf(s) { for (const map of s.typing.values()) for (const t of map.values()) clearTimeout(t); }

// ---------- wiring ----------

function start() {
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', () => signOut());
  $('reconnect-now').addEventListener('click', () => { state.retryMs = 500; connect(); });
  $('new-room-form').addEventListener('submit', createRoom);
  $('public-refresh').addEventListener('click', refreshPublicRooms);
  let searchTimer = 0;
  $('people-search').addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(refreshPeople, 250); });
  $('people-search').addEventListener('focus', refreshPeople); // people who signed up since the last refresh
  $('back').addEventListener('click', closeRoom);
  $('members-toggle').addEventListener('click', () => toggleMembers());
  $('members-close').addEventListener('click', () => toggleMembers(false));
  $('invite-form').addEventListener('submit', invite);
  $('leave-room').addEventListener('click', leaveRoom);
  $('composer-form').addEventListener('submit', submitComposer);
  $('composer').addEventListener('input', onComposerInput);
  $('composer').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submitComposer(e); // Shift+Enter: new line
  });
  const list = $('message-list');
  list.addEventListener('scroll', () => {
    const room = currentRoom();
    if (!room) return;
    if (list.scrollTop < 80) loadOlder(room);
    if (isAtBottom(list)) { $('new-messages').hidden = true; scheduleReceipt(); }
  });
  $('new-messages').addEventListener('click', () => { list.scrollTop = list.scrollHeight; });
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') scheduleReceipt(); });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') toggleMembers(false); });
  window.addEventListener('online', () => { if (state.session && !state.ws) { state.retryMs = 500; connect(); } });
  window.addEventListener('pagehide', () => { if (state.session) save(KEYS.resume, state.resume); });

  const session = load(KEYS.session, null);
  if (session?.token) enterApp(session);
  else { $('signin-view').hidden = false; $('signin-name').focus(); }
}

start();
