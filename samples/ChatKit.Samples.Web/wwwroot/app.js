// ChatKit sample page, built on the browser client @chatkit/client (clients/js). The sample's build copies the
// client's bundle to lib/chatkit.js; ChatClient speaks the protocol (docs/protocol.md): it connects with the token,
// reconnects with backoff and resumes every room, retries sends with the same cmid and keeps the connection alive.
// This file keeps the page's state in `state` and redraws parts of the page from it with the render* functions.
// Security: names, room names and bodies come from other users. They only ever reach the DOM as text (text nodes /
// textContent), never as HTML.

const KEYS = { session: 'chatkit.session', resume: 'chatkit.resume', outbox: 'chatkit.outbox', open: 'chatkit.open', device: 'chatkit.device' };
const PAGE = 50;                 // messages per history page
const TYPING_IDLE_MS = 5000;     // no keystroke for this long: tell the others we stopped typing
const PEOPLE_EVERY_MS = 5000;    // People is refreshed this often (presence events only cover shared rooms)
const PEOPLE_LIMIT = 50;         // the server's most users.search results
const RETRY_MAX_MS = 10000;      // the page's own retries of a first connection that failed
const E2E_START_WAIT_MS = 5000; // the longest the first connection waits for this tab's encryption to start
const QUIET = new Set(['not_connected', 'connection_lost', 'timeout']); // background requests while offline
const RETRYABLE = new Set(['connection_failed', 'connection_lost', 'timeout', 'unavailable', 'internal_error', 'rate_limited']);
const narrow = matchMedia('(max-width: 600px)');
const $ = (id) => document.getElementById(id);

let ChatClient;
try {
  ({ ChatClient } = await import('./lib/chatkit.js'));
} catch (err) {
  const fatal = $('fatal');
  fatal.textContent = 'The chat client lib/chatkit.js could not be loaded. Build the sample (dotnet build ' +
    'samples/ChatKit.Samples.Web), which builds clients/js and copies it to wwwroot/lib.';
  fatal.hidden = false;
  throw err;
}
// End-to-end encryption (lib/e2e.js, WebCrypto): without it, encrypted rooms show a lock instead of text.
let E2E = null;
try {
  E2E = await import('./lib/e2e.js');
} catch (err) {
  console.warn('ChatKit: lib/e2e.js could not be loaded; encrypted rooms cannot be read or written.', err);
}

let state = freshState();

function freshState(session = null) {
  const outbox = session ? load(KEYS.outbox, []) : [];
  for (const item of outbox) if (item.status === 'sending') item.status = 'queued';
  return {
    session,                          // { token, user, name }
    client: null,                     // the ChatClient of this session
    e2e: null,                        // its EndToEndEncryption, once this tab's device is published
    e2eStore: null, e2eStarting: false, e2eClosing: null,
    device: null, releaseDevice: null, // this tab's device id and its Web Lock
    everConnected: false,
    retryMs: 500, retryTimer: 0,      // the page's retries while the first connection fails
    peopleTimer: 0,
    limits: { maxMessageBytes: 16384, typingTtlMs: 6000 },
    rooms: new Map(), openRoom: null, // room id -> RoomInfo + { messages: Map(seq -> Message), ... }
    users: new Map(), people: [], peopleFull: false, publicRooms: [],
    outbox,                           // sends without a seq yet: { cmid, room, body, status, createdAt }
    typing: new Map(),                // room -> Map(user -> expiry timer)
    readers: new Map(),               // room -> Map(user -> read seq), from members.list and receipt events
    typingSentAt: 0, typingRoom: null, typingIdleTimer: 0,
  };
}

// ---------- small helpers ----------

function load(key, fallback) {
  try { return JSON.parse(sessionStorage.getItem(key)) ?? fallback; } catch { return fallback; }
}
function save(key, value) {
  try { sessionStorage.setItem(key, JSON.stringify(value)); } catch { /* storage full/blocked: memory still works */ }
}
// The client's resume positions survive a reload, so the next connection gets exactly what this page missed.
let resumeTimer = 0;
function saveResume() {
  clearTimeout(resumeTimer);
  resumeTimer = setTimeout(saveResumeNow, 300);
}
function saveResumeNow() {
  clearTimeout(resumeTimer);
  if (state.session && state.client) save(KEYS.resume, state.client.positions);
}
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
const connected = () => state.client?.state === 'connected';

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

// ---------- toasts (every error shows its code) ----------

function toast(text, kind = 'error', code) {
  const el = h('div', { class: `toast ${kind}`, testid: 'toast', role: kind === 'error' ? 'alert' : 'status',
    dataset: { code }, onclick: () => el.remove() }, text);
  $('toasts').append(el);
  setTimeout(() => el.classList.add('leaving'), 6000);
  setTimeout(() => el.remove(), 6400);
}
const toastError = (err) => toast(`${err?.code || 'error'}: ${err?.message || 'Something went wrong.'}`, 'error', err?.code);
// Background requests (receipts, typing, refreshes) fail harmlessly while offline: only report real errors.
const quietError = (err) => { if (!QUIET.has(err?.code)) toastError(err); };

// The session's client; requests made while it (re)connects wait for the connection.
function api() {
  if (!state.client) throw Object.assign(new Error('Not signed in.'), { code: 'not_connected' });
  return state.client;
}
// Runs a user action; any error goes to a toast. Returns the result, or undefined on failure.
async function act(fn) {
  try { return await fn(api()); } catch (err) { toastError(err); return undefined; }
}

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
// A padlock (SVG: emoji fonts are not everywhere) for end-to-end encrypted conversations.
function lockIcon(label = 'End-to-end encrypted') {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'lock');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.dataset.testid = 'lock';
  for (const [tag, attrs] of [['rect', { x: 5, y: 11, width: 14, height: 10, rx: 2 }], ['path', { d: 'M8 11V7a4 4 0 0 1 8 0v4' }]]) {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    svg.append(el);
  }
  return svg;
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

function typingUsers(roomId) {
  return [...(state.typing.get(roomId)?.keys() || [])];
}

function renderRoomList() {
  const rooms = [...state.rooms.values()].sort((a, b) => activity(b).localeCompare(activity(a)));
  $('room-list').replaceChildren(...rooms.map(roomItem));
  $('room-list-empty').hidden = rooms.length > 0;
  const total = rooms.reduce((n, r) => n + (r.unread || 0), 0);
  document.title = total ? `(${total}) ChatKit` : 'ChatKit';
}
const activity = (room) => room.last?.sentAt || room.createdAt || '';

// Messages of end-to-end encrypted rooms arrive as envelopes ('e2e1:…') and state.e2e decrypts them. One it cannot
// read (sent before this tab's device existed, say) keeps a lock and the reason instead of its text.
const ENCRYPTED_PREFIX = 'e2e1:';
const locked = (m) => !!m.undecryptable || m.body.startsWith(ENCRYPTED_PREFIX);
const shownBody = (m) => !locked(m) ? m.body
  : `Encrypted message (${m.undecryptable ? `not readable on this device: ${m.undecryptable}` : 'this page cannot decrypt it'})`;

function roomItem(room) {
  const typers = typingUsers(room.id).map(nameOf);
  const direct = room.kind === 'direct';
  let sub = direct ? 'Direct message' : room.visibility === 'private' ? 'Private room' : 'Public room';
  if (room.last) sub = (room.last.sender === me() ? 'You: ' : direct ? '' : nameOf(room.last.sender) + ': ') + shownBody(room.last);
  if (typers.length) sub = typers.length === 1 ? `${typers[0]} is typing…` : 'Several people are typing…';
  const unread = room.unread || 0;
  return h('li', { class: `room-item${room.id === state.openRoom ? ' active' : ''}${unread ? ' has-unread' : ''}`,
    testid: 'room-item', dataset: { roomId: room.id, kind: room.kind, unread } },
  h('button', { type: 'button', class: 'item-btn', onclick: () => openRoom(room.id), 'aria-current': room.id === state.openRoom ? 'true' : null },
    avatar(direct ? room.peer : room.id, room.name, direct ? room.peer : null),
    h('span', { class: 'item-main' },
      h('span', { class: 'item-name', testid: 'room-name' }, room.name || room.id, room.encrypted ? lockIcon() : null),
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
          h('span', { class: 'item-sub' }, `${id} · ${presenceText(id)}`))),
      E2E ? h('button', { type: 'button', class: 'icon-btn small', testid: 'person-encrypted', title: `Encrypted chat with ${nameOf(id)}`,
        'aria-label': `Encrypted chat with ${nameOf(id)}`, onclick: () => openDirect(id, true) }, lockIcon(`Encrypted chat with ${nameOf(id)}`)) : null)));
  $('people-empty').hidden = ids.length > 0;
  $('people-more').hidden = !state.peopleFull;
}

function renderHeader() {
  const room = currentRoom();
  $('no-room').hidden = !!room;
  $('room-view').hidden = !room;
  document.body.classList.toggle('show-chat', !!room);
  $('me-name').textContent = state.session?.name || '';
  $('current-user').textContent = me() || '';
  const meAvatar = $('me-avatar');
  meAvatar.textContent = initials(state.session?.name);
  meAvatar.style.setProperty('--hue', String(hue(me())));
  if (!room) return;
  $('conversation-title').replaceChildren(room.name || room.id, room.encrypted ? lockIcon() : '');
  const count = room.members ? room.members.size : null;
  $('room-subtitle').textContent = (room.encrypted ? 'End-to-end encrypted · ' : '') + (room.kind === 'direct' ? `${room.peer} · ${presenceText(room.peer)}`
    : `${room.visibility === 'private' ? 'Private' : 'Public'} room${count != null ? ` · ${count} member${count === 1 ? '' : 's'}` : ''}`);
  $('members-toggle').textContent = count != null ? `Members (${count})` : 'Members';
  const verifiable = room.encrypted && room.kind === 'direct' && !!state.e2e;
  $('safety-toggle').hidden = !verifiable;
  if (!verifiable) $('safety-panel').hidden = true;
}

// The safety number of an encrypted direct conversation: both people see the same 60 digits when nobody sits in
// between (docs/encryption.md, "Verifying a contact").
async function toggleSafetyNumber(show = $('safety-panel').hidden) {
  const room = currentRoom();
  $('safety-panel').hidden = !show;
  $('safety-toggle').setAttribute('aria-expanded', String(show));
  if (!show || !room?.peer || !state.e2e) return;
  $('safety-number').textContent = 'Computing…';
  $('safety-peer').textContent = nameOf(room.peer);
  try {
    const digits = await state.e2e.safetyNumber(room.peer);
    if (state.openRoom === room.id) $('safety-number').textContent = digits.match(/.{5}/g).join(' ');
  } catch (err) {
    $('safety-number').textContent = '';
    toastError(err);
  }
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
    .filter((u) => u.user !== me() && !room.members?.has(u.user)).map((u) => h('option', { value: u.user }, u.name || u.user)));
}
function canRemove(room, m) {
  if (room.kind !== 'group' || m.user === me() || m.role === 'owner') return false;
  return room.role === 'owner' || (room.role === 'admin' && m.role === 'member');
}

function renderTyping() {
  const users = state.openRoom ? typingUsers(state.openRoom) : [];
  const names = users.map(nameOf);
  const el = $('typing-indicator');
  el.hidden = users.length === 0;
  el.dataset.users = users.join(' ');
  const text = names.length === 1 ? `${names[0]} is typing…`
    : names.length === 2 ? `${names[0]} and ${names[1]} are typing…`
      : names.length ? 'Several people are typing…' : '';
  // The ids too (for screen readers and tests), where they differ from the names shown.
  const ids = users.filter((u) => nameOf(u) !== u);
  el.replaceChildren(text, ids.length ? h('span', { class: 'visually-hidden' }, ` (${ids.join(', ')})`) : '');
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
    nodes.push(h('div', { class: 'history-status', testid: 'history-start' },
      messages.length ? 'This is the beginning of the conversation.' : 'No messages yet. Say hello!'));
  }
  let lastOwn = null;
  for (const m of messages) if (m.sender === me()) lastOwn = m;
  let prev = null;
  for (const m of messages) {
    if (!prev || dayLabel(prev.sentAt) !== dayLabel(m.sentAt)) nodes.push(h('div', { class: 'day' }, dayLabel(m.sentAt)));
    const node = messageNode(m, prev);
    if (m.sender === me()) node.append(readReceiptNode(room, m, m === lastOwn));
    nodes.push(node);
    prev = m;
  }
  for (const item of state.outbox) {
    if (item.room !== room.id) continue;
    nodes.push(pendingNode(item, prev));
    prev = { sender: me(), sentAt: item.createdAt };
  }
  list.replaceChildren(...nodes);
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
  h('div', { class: `bubble${locked(m) ? ' encrypted' : ''}`, testid: 'message-body', title: fmt(fullFmt, m.sentAt) },
    locked(m) ? [lockIcon(), ' '] : null, shownBody(m)));
}

function pendingNode(item, prev) {
  const failed = item.status === 'failed';
  const el = messageNode({ sender: me(), cmid: item.cmid, body: item.body, sentAt: item.createdAt }, prev, failed ? 'failed' : 'pending');
  el.append(failed
    ? h('div', { class: 'msg-status' }, `Not sent${item.error ? ` (${item.error})` : ''} · `,
      h('button', { type: 'button', class: 'link', testid: 'message-retry', onclick: () => { item.status = 'queued'; trySend(item); } }, 'Retry'), ' · ',
      h('button', { type: 'button', class: 'link', testid: 'message-discard', onclick: () => discardSend(item) }, 'Discard'))
    : h('div', { class: 'msg-status' }, connected() ? 'Sending…' : 'Waiting for connection…'));
  return el;
}

// Under each own message: "Seen" once another member's read position (members.list, then receipt events) reached
// it; in a group "Seen by …". Shown under the latest own message only; the others keep it for tests and a11y tools.
function readReceiptNode(room, m, latest) {
  const readers = [...(state.readers.get(room.id) || [])].filter(([user, seq]) => user !== me() && seq >= m.seq).map(([user]) => user);
  const names = readers.map(nameOf);
  const text = !readers.length ? 'Sent'
    : room.kind === 'direct' ? 'Seen'
      : `Seen by ${names.length <= 3 ? names.join(', ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} others`}`;
  return h('div', { class: `read-receipt${latest ? ' latest' : ''}${readers.length ? ' seen' : ''}`, testid: 'read-receipt',
    dataset: { readers: readers.join(' ') } }, text);
}

function afterMessagesRendered() {
  const room = currentRoom(), list = $('message-list');
  if (!room) return;
  if (isAtBottom(list)) $('new-messages').hidden = true;
  // A short first page may not fill the pane, so no scroll event would ever ask for more.
  if (room.loaded && room.hasMore && list.clientHeight && list.scrollHeight <= list.clientHeight + 80) loadOlder(room);
  scheduleReceipt();
}

// ---------- connection (ChatClient) ----------

function startClient(resume = load(KEYS.resume, {})) {
  const owner = state; // this session's state: sign-out replaces it, and the old client keeps its own token
  const client = new ChatClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/chat`,
    token: () => owner.session?.token,   // asked again before every reconnection
    resume,                              // positions saved by this tab before a reload
  });
  state.client = client;
  const on = (type, handler) => client.on(type, guarded(() => state.client === client, type, handler));
  on('state', onStateChange);
  // Envelopes go to state.e2e, which sends them on decrypted (in order, after the ones before them).
  on('message', (m) => { if (!(state.e2e && m.body.startsWith(ENCRYPTED_PREFIX))) onMessageEvent(m); });
  on('typing', onTypingEvent);
  on('receipt', onReceiptEvent);
  on('presence', (p) => { rememberUser(p); refresh({ people: true, rooms: true, header: true, members: true }); });
  on('room.added', (e) => { upsertRoom(e.info); refresh({ rooms: true, publicRooms: true }); });
  on('room.removed', (e) => dropRoom(e.room, e.reason));
  on('member.joined', (e) => {
    rememberUser({ user: e.member.user, name: e.member.name });
    state.rooms.get(e.room)?.members?.set(e.member.user, e.member);
    if (!state.people.includes(e.member.user)) refreshPeople(); // someone new: People is stale
    refresh({ header: true, members: true, people: true });
  });
  on('member.left', (e) => {
    state.rooms.get(e.room)?.members?.delete(e.user);
    state.readers.get(e.room)?.delete(e.user);
    clearTyper(e.room, e.user);
    refresh({ header: true, members: true, messages: e.room === state.openRoom });
  });
  on('error', toastError); // an error the server sent about no request
  // This tab's device listens before the client connects, so it sees every message the connection brings (IndexedDB
  // and a Web Lock, a few milliseconds; E2E_START_WAIT_MS at most).
  Promise.race([startEncryption(client), new Promise((resolve) => setTimeout(resolve, E2E_START_WAIT_MS))])
    .finally(() => { if (state.client === client) connectClient(); });
}

// Events of a client (or of its encryption) that this page replaced (sign-out, "Retry now") are ignored.
function guarded(current, type, handler) {
  return (e) => {
    if (!current()) return;
    try { handler(e); } catch (err) { console.error('ChatKit: event handler failed', type, err); }
  };
}

// This tab's device: a device id of this person that no other open tab holds (Web Locks), so a closed tab's device
// is reused by the next tab instead of piling up in the key directory (ChatKit:MaxDevicesPerUser, 10), and a
// duplicated tab gets a device of its own instead of sharing one ratchet. The lock is held until sign-out.
async function claimDevice(user) {
  const newId = () => 'web-' + Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
  if (!navigator.locks) { // no Web Locks (a plain-http LAN address): one device per tab
    const device = load(KEYS.device, null) || newId();
    save(KEYS.device, device);
    return device;
  }
  const key = `chatkit.devices.${user}`;
  let known = [];
  try { known = JSON.parse(localStorage.getItem(key)) || []; } catch { /* none yet */ }
  for (const device of [...known, newId()]) {
    const held = await new Promise((resolve) => navigator.locks.request(`chatkit-e2e/${user}/${device}`, { ifAvailable: true }, (lock) => {
      resolve(!!lock);
      return lock ? new Promise((release) => { state.releaseDevice = release; }) : undefined;
    }));
    if (held) {
      if (!known.includes(device)) localStorage.setItem(key, JSON.stringify([...known, device]));
      return device;
    }
  }
  throw new Error('No device id could be claimed.');
}

// Resolves once this tab's encryption listens to `client` (so the page can connect); its IndexedDB database opens,
// the keys load and the device is published meanwhile (e2e.ready), and the messages that arrive first wait for them.
// Without WebCrypto or IndexedDB encrypted rooms stay locked.
async function startEncryption(client) {
  const owner = state, user = state.session?.user;
  if (!E2E || !user || state.e2e || state.e2eStarting) return;
  state.e2eStarting = true;
  try {
    await state.e2eClosing; // the previous client's encryption has finished with the store
    state.device ||= await claimDevice(user);
    if (state.client !== client) return;
    // The database opens while the client connects (a new one takes a while): the store waits for it.
    const opening = E2E.IndexedDbStateStore.open(`chatkit-e2e/${user}/${state.device}`);
    const store = {
      load: async (name) => (await opening).load(name),
      save: async (name, bytes) => (await opening).save(name, bytes),
      close: () => opening.then((db) => db.close(), () => {}),
    };
    const e2e = E2E.EndToEndEncryption.open({ client, userId: user, deviceId: state.device, store });
    state.e2e = e2e;
    state.e2eStore = store;
    // Its messages still count after a "Retry now" replaced the client: the new client resumes after them.
    const current = () => state === owner;
    e2e.on('message', guarded(current, 'message', (m) => onMessageEvent({ ...m, decrypted: true })));
    e2e.on('undecryptable', guarded(current, 'undecryptable', ({ message, error }) =>
      onMessageEvent({ ...message, undecryptable: error.code || error.name })));
    e2e.on('error', guarded(current, 'error', quietError));
    e2e.ready.catch((err) => {
      if (state === owner) toast(`End-to-end encryption: this tab's device is not published yet (${err.code || err.name}: ${err.message}); sending to an encrypted room tries again.`, 'error', err.code);
    });
  } catch (err) {
    if (state === owner) toast(`End-to-end encryption is off in this tab for now: ${err.code || err.name}: ${err.message}`, 'error', err.code);
  } finally {
    owner.e2eStarting = false;
  }
}

// Sign-out: the device leaves the key directory and its keys and texts are deleted, so nobody encrypts for it any
// more; then its id is free for nobody (it is forgotten) and its lock is released.
async function stopEncryption(old) {
  const { e2e, e2eStore, device } = old;
  if (e2e) {
    await e2e.close();
    await e2e.removeDevice().catch((err) => console.warn('ChatKit: the device could not be removed from the key directory', err));
    e2eStore.close();
  }
  if (!device) return;
  indexedDB.deleteDatabase(`chatkit-e2e/${old.session.user}/${device}`);
  const key = `chatkit.devices.${old.session.user}`;
  try { localStorage.setItem(key, JSON.stringify((JSON.parse(localStorage.getItem(key)) || []).filter((d) => d !== device))); } catch { /* nothing kept */ }
  old.releaseDevice?.();
}

// History pages of encrypted rooms: each envelope decrypted (state.e2e keeps the texts, so a reload shows them
// again); messages that only carry keys are left out; plaintext in an encrypted room (only a server that breaks the
// rules could store it) is locked, never shown as if it were encrypted.
async function readable(room, messages) {
  const e2e = state.e2e;
  const shown = [];
  for (const m of messages) {
    if (!m.body.startsWith(ENCRYPTED_PREFIX)) { shown.push(room.encrypted ? { ...m, undecryptable: 'not_encrypted' } : m); continue; }
    if (!e2e) { shown.push(m); continue; }
    try {
      const text = await e2e.decrypt(m);
      if (text !== null) shown.push({ ...m, body: text, decrypted: true });
    } catch (err) {
      shown.push({ ...m, undecryptable: err.code || err.name });
    }
  }
  return shown;
}

function connectClient() {
  clearTimeout(state.retryTimer);
  // The 'state' events report the outcome: 'connected' with the welcome, or 'closed' with the error.
  state.client?.connect().catch(() => {});
}

function onStateChange({ state: s, welcome, error }) {
  switch (s) {
    case 'connecting':
      setStatus(state.everConnected ? 'Reconnecting…' : 'Connecting…', 'connecting');
      break;
    case 'connected':
      onWelcome(welcome);
      break;
    case 'reconnecting':
      // ChatClient reconnects by itself, with backoff, and resumes every room; requests and sends wait meanwhile.
      showReconnecting(error);
      break;
    case 'closed':
      if (error) onConnectionFailed(error);
      break;
  }
}

function showReconnecting(error) {
  $('connection-error').hidden = true;
  $('reconnecting-banner').hidden = false;
  $('reconnecting-text').textContent = error ? `Reconnecting… (${error.code})` : 'Reconnecting…';
  setStatus('Offline', 'offline');
  clearAllTyping();
  refresh({ messages: true }); // pending messages now say "Waiting for connection…"
}

// The client gave up (or a first connection failed): it does so only for errors retrying would not change, except
// that a first connect() is one attempt; the page retries those itself so that a server still starting is waited for.
function onConnectionFailed(error) {
  stopTyping(false);
  if (error.code === 'unauthenticated') {
    signOut(`Your session has expired or is no longer valid (${error.code}). Please sign in again.`);
    return;
  }
  if (RETRYABLE.has(error.code)) {
    showReconnecting(error);
    const delay = state.retryMs * (0.5 + Math.random() / 2);
    state.retryMs = Math.min(state.retryMs * 2, RETRY_MAX_MS);
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(connectClient, delay);
    return;
  }
  $('reconnecting-banner').hidden = true;
  $('connection-error-text').textContent = `Disconnected: ${error.code}: ${error.message}`;
  $('connection-error').hidden = false;
  setStatus('Offline', 'offline');
  toastError(error);
  refresh({ messages: true });
}

// "Retry now" while reconnecting: a new client, resuming from where this one was, connects at once.
function restartClient() {
  const old = state.client;
  if (!old || old.state === 'connected' || old.state === 'connecting') return;
  startClient(stopClient());
}

// Closes the session's client and returns its resume positions. Its waiting sends fail with not_connected and stay
// queued in the outbox for the next client, which sends them with the same cmid.
function stopClient() {
  const old = state.client;
  if (!old) return load(KEYS.resume, {});
  const resume = old.positions;
  save(KEYS.resume, resume);
  state.client = null;
  // Its encryption finishes the messages it has queued (their texts still reach the page) before the next one starts.
  const { e2e, e2eStore } = state;
  state.e2eClosing = e2e && e2e.close().finally(() => e2eStore.close());
  state.e2e = state.e2eStore = null;
  clearTimeout(state.retryTimer);
  clearInterval(state.peopleTimer);
  state.retryMs = 500;
  stopTyping(false);
  clearAllTyping();
  void old.close();
  return resume;
}

function setStatus(text, status) {
  const el = $('connection-status');
  el.textContent = text;
  el.dataset.status = status;
}

function onWelcome(w) {
  const first = !state.everConnected;
  state.everConnected = true;
  state.retryMs = 500;
  clearTimeout(state.retryTimer);
  $('reconnecting-banner').hidden = true;
  $('connection-error').hidden = true;
  setStatus('Online', 'online');
  Object.assign(state.limits, w.limits || {});
  if (!state.e2e) startEncryption(state.client); // it failed or timed out before this connection: try again
  state.session = { ...state.session, user: w.user, name: w.name };
  save(KEYS.session, state.session);
  rememberUser({ user: w.user, name: w.name, online: true });

  const rooms = w.rooms || [];
  const ids = new Set(rooms.map((r) => r.id));
  for (const id of [...state.rooms.keys()]) if (!ids.has(id)) dropRoom(id); // left/removed while away
  for (const info of rooms) upsertRoom(info);
  saveResume();

  // Sends that could not go out (not connected, or a reload): the same cmid again, which the server stores once.
  for (const item of state.outbox) if (item.status === 'queued') trySend(item);
  refreshPeople();
  refreshPublicRooms();
  refreshPresence([...state.rooms.values()].filter((r) => r.peer).map((r) => r.peer));
  clearInterval(state.peopleTimer);
  state.peopleTimer = setInterval(() => { if (document.visibilityState === 'visible' && connected()) refreshPeople(); }, PEOPLE_EVERY_MS);

  if (first) {
    const saved = load(KEYS.open, null); // reopen the room this tab showed before a reload
    if (saved && state.rooms.has(saved)) openRoom(saved);
  } else if (currentRoom()) {
    if (!currentRoom().loaded) loadNewest(currentRoom());
    loadMembers(currentRoom()); // members and their read positions may have changed while we were away
  }
  refreshAll(first ? 'bottom' : true); // after a reconnect, keep the reader's scroll position
}

// ---------- rooms and messages ----------

function upsertRoom(info) {
  if (!info?.id) return null;
  let room = state.rooms.get(info.id);
  if (!room) {
    room = { messages: new Map(), loaded: false, hasMore: true, members: null, last: null, draft: '' };
    state.rooms.set(info.id, room);
  }
  Object.assign(room, info, { latestSeq: Math.max(room.latestSeq || 0, info.latestSeq || 0) });
  if (info.kind === 'direct' && info.peer) rememberUser({ user: info.peer, name: info.name });
  return room;
}

function dropRoom(id, reason) {
  const room = state.rooms.get(id);
  if (!room) return;
  state.rooms.delete(id);
  saveResume(); // the client forgot the room's position
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
    if (!room.messages.has(m.seq) || (room.messages.get(m.seq).undecryptable && !m.undecryptable)) room.messages.set(m.seq, m);
    if (!room.last || m.seq > room.last.seq) room.last = m;
  }
}

// ChatClient delivers each message once, in order per room (also the ones missed while reconnecting).
function onMessageEvent(m) {
  const room = state.rooms.get(m.room);
  if (!room) return;
  if (room.encrypted && !m.decrypted && !m.undecryptable && !m.body.startsWith(ENCRYPTED_PREFIX)) m = { ...m, undecryptable: 'not_encrypted' };
  const fresh = m.seq > (room.latestSeq || 0); // replays after a resume are already in the welcome's unread
  addMessages(room, [m]);
  // A send marks the room read up to that message for its sender (docs/protocol.md), without a receipt event.
  if (m.sender !== me()) noteReader(room.id, m.sender, m.seq);
  saveResume();
  settleOutbox(m.cmid, m.sender);
  clearTyper(room.id, m.sender); // sending ends typing
  const open = room.id === state.openRoom;
  if (fresh) {
    room.latestSeq = m.seq;
    if (m.sender === me()) { room.readSeq = Math.max(room.readSeq || 0, m.seq); room.unread = 0; } // a send marks read
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
  // On a phone the conversation is a view of its own: the browser's back gesture returns to the list.
  if (narrow.matches && !history.state?.chatkitRoom) history.pushState({ chatkitRoom: true }, '');
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

function goBack() {
  if (history.state?.chatkitRoom) history.back(); // popstate closes the room
  else closeRoom();
}

async function loadNewest(room) {
  if (room.loadingNewest || !state.client) return;
  room.loadingNewest = true;
  try {
    const page = await api().history(room.id, { limit: PAGE });
    addMessages(room, await readable(room, page.messages));
    noteOldest(room, page.messages);
    for (const m of page.messages) room.latestSeq = Math.max(room.latestSeq || 0, m.seq);
    room.loaded = true;
    room.hasMore = page.hasMore;
    saveResume(); // a page raises the client's position in the room
    refresh({ rooms: true, messages: room.id === state.openRoom ? 'bottom' : false });
  } catch (err) { quietError(err); } finally { room.loadingNewest = false; }
}

// Scrolling back: the page of messages just below the oldest one shown. Pages come in ascending order and the
// cache is keyed by seq, so the list stays in order without duplicates.
async function loadOlder(room) {
  if (!connected() || room.loadingOlder || !room.loaded || !room.hasMore) return;
  if (Date.now() < (room.olderRetryAt || 0)) return;
  const seqs = [...room.messages.keys(), ...(room.oldestSeq ? [room.oldestSeq] : [])];
  const lowest = seqs.length ? Math.min(...seqs) : (room.latestSeq || 0) + 1;
  if (lowest <= 1) { room.hasMore = false; refresh({ messages: 'prepend' }); return; }
  room.loadingOlder = true;
  refresh({ messages: 'prepend' });
  try {
    const page = await api().history(room.id, { before: lowest, limit: PAGE });
    addMessages(room, await readable(room, page.messages));
    noteOldest(room, page.messages);
    room.hasMore = page.hasMore;
  } catch (err) {
    quietError(err);
    room.olderRetryAt = Date.now() + 5000; // the next scroll may retry; no tight retry loop
  } finally {
    room.loadingOlder = false;
    if (room.id === state.openRoom) refresh({ messages: 'prepend' });
  }
}

// The oldest message a page brought, shown or not (an encrypted room's key messages are not), to page on from.
function noteOldest(room, messages) {
  for (const m of messages) room.oldestSeq = Math.min(room.oldestSeq || m.seq, m.seq);
}

async function loadMembers(room) {
  if (!state.client) return;
  try {
    const members = await api().listMembers(room.id);
    room.members = new Map(members.map((m) => [m.user, m]));
    for (const m of members) rememberUser({ user: m.user, name: m.name });
    // Members carry their read positions, so "Seen" survives a reload; receipt events keep it current.
    for (const m of members) if (m.readSeq) noteReader(room.id, m.user, m.readSeq);
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
  if (room.encrypted && !state.e2e) {
    toast('not_encrypted: this room is end-to-end encrypted, and encryption is off in this tab; nothing was sent.', 'error', 'not_encrypted');
    return;
  }
  const bytes = new TextEncoder().encode(body).length;
  if (bytes > state.limits.maxMessageBytes) {
    toast(`message_too_large: that message is ${bytes} bytes; the limit is ${state.limits.maxMessageBytes}.`, 'error', 'message_too_large');
    return;
  }
  box.value = '';
  room.draft = '';
  autosize();
  stopTyping(false); // the server ends our typing indicator when the message arrives
  const item = { cmid: newCmid(), room: room.id, body, status: 'queued', createdAt: new Date().toISOString() };
  state.outbox.push(item);
  saveOutbox();
  refresh({ messages: 'bottom' });
  trySend(item);
}

// ChatClient.send waits for the connection and retries with the same cmid (lost connection, timeout, rate_limited,
// unavailable); what still fails stays in the outbox, queued for the next connection or marked failed.
function trySend(item) {
  const client = state.client;
  if (!client || item.status !== 'queued' || client.state === 'idle' || client.state === 'closed') return;
  const room = state.rooms.get(item.room);
  if (!room || (room.encrypted && !state.e2e)) return; // stays queued until the room and this tab's device are there
  item.status = 'sending';
  // In an encrypted room state.e2e encrypts for every device of every member, then sends with the same cmid.
  (room.encrypted ? state.e2e.send(room, item.body, item.cmid) : client.send(item.room, item.body, item.cmid))
    .then((ack) => confirmSend(item, ack), (err) => sendFailed(item, err, client));
  refresh({ messages: item.room === state.openRoom });
}

function confirmSend(item, ack) {
  settleOutbox(item.cmid, me());
  const room = state.rooms.get(ack.room);
  if (!room) return;
  addMessages(room, [{ room: ack.room, seq: ack.seq, cmid: ack.cmid, sender: me(), body: item.body, sentAt: ack.sentAt, decrypted: room.encrypted }]);
  room.latestSeq = Math.max(room.latestSeq || 0, ack.seq);
  room.readSeq = Math.max(room.readSeq || 0, ack.seq); // a send marks the room read for the sender
  if (room.readSeq >= room.latestSeq) room.unread = 0;
  refresh({ rooms: true, messages: room.id === state.openRoom ? 'bottom' : false });
}

function sendFailed(item, err, client) {
  if (!state.outbox.includes(item)) return;
  if (QUIET.has(err.code)) {
    item.status = 'queued'; // sent again (same cmid) after the next welcome
    if (state.client !== client && state.client) trySend(item); // "Retry now" replaced the client
    else if (connected()) setTimeout(() => trySend(item), 1000);
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
  if (!room || !connected()) return;
  if (!$('composer').value.trim()) { stopTyping(); return; }
  // Repeated within the server's typingTtlMs while the user keeps typing.
  const every = Math.max(1000, Math.min(2000, state.limits.typingTtlMs / 2));
  if (state.typingRoom !== room.id || Date.now() - state.typingSentAt >= every) {
    state.typingSentAt = Date.now();
    state.typingRoom = room.id;
    api().typing(room.id, true).catch(quietError);
  }
  clearTimeout(state.typingIdleTimer);
  state.typingIdleTimer = setTimeout(() => stopTyping(), TYPING_IDLE_MS);
}

// tell: send `typing` inactive (not needed after a send: the server ends the indicator itself).
function stopTyping(tell = true) {
  clearTimeout(state.typingIdleTimer);
  if (tell && state.typingSentAt && state.typingRoom && state.client) state.client.typing(state.typingRoom, false).catch(quietError);
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

// ---------- read receipts ----------

// At most one receipt per 250 ms (scrolling asks often), but never postponed further by more asking.
let receiptTimer = 0;
function scheduleReceipt() {
  receiptTimer ||= setTimeout(() => { receiptTimer = 0; sendReadReceipt(); }, 250);
}

// The newest message the reader can actually see (at least its top part is inside the message list).
function lastShownSeq() {
  const list = $('message-list');
  const bottom = list.getBoundingClientRect().bottom;
  const nodes = list.querySelectorAll('[data-testid="message"][data-seq]');
  for (let i = nodes.length - 1; i >= 0; i--) {
    const r = nodes[i].getBoundingClientRect();
    if (r.height && r.top + Math.min(r.height, 24) <= bottom) return Number(nodes[i].dataset.seq);
  }
  return 0;
}

// Marks the open room read up to the newest message shown, while the page is visible.
function sendReadReceipt() {
  const room = currentRoom();
  if (!room || !connected() || !room.messages.size || document.visibilityState !== 'visible') return;
  const seq = lastShownSeq();
  if (!seq || seq <= Math.max(room.readSeq || 0, room.readSent || 0)) return;
  room.readSent = seq;
  api().receipt(room.id, seq, 'read')
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
  noteReader(room.id, e.user, e.seq);
  refresh({ messages: room.id === state.openRoom });
}

// Another member's read position: it only moves forward.
function noteReader(roomId, user, seq) {
  let map = state.readers.get(roomId);
  if (!map) state.readers.set(roomId, (map = new Map()));
  if (seq > (map.get(user) || 0)) map.set(user, seq);
}

// ---------- sidebar actions ----------

let searchSeq = 0;
async function refreshPeople() {
  if (!state.client) return;
  const mine = ++searchSeq; // answers to older searches are dropped
  try {
    const users = await api().searchUsers($('people-search').value.trim(), PEOPLE_LIMIT);
    if (mine !== searchSeq) return;
    state.peopleFull = users.length >= PEOPLE_LIMIT;
    for (const u of users) rememberUser(u);
    state.people = users.map((u) => u.user);
    refresh({ people: true, rooms: true, header: true, members: true });
  } catch (err) { quietError(err); }
}

async function refreshPublicRooms() {
  if (!state.client) return;
  try {
    state.publicRooms = await api().publicRooms(50);
    refresh({ publicRooms: true });
  } catch (err) { quietError(err); }
}

async function refreshPresence(users) {
  const ids = [...new Set(users)].slice(0, 100);
  if (!ids.length || !state.client) return;
  try {
    for (const p of await api().presence(ids)) rememberUser(p);
    refresh({ people: true, rooms: true, header: true, members: true });
  } catch (err) { quietError(err); }
}

function toggleNewRoom(show = $('new-room-form').hidden) {
  $('new-room-form').hidden = !show;
  $('new-room').setAttribute('aria-expanded', String(show));
  if (show) $('new-room-name').focus();
}

async function createRoom(event) {
  event.preventDefault();
  const name = $('new-room-name').value.trim();
  if (!name) { $('new-room-name').focus(); return; }
  const raw = $('new-room-members').value.split(',').map((s) => s.trim()).filter(Boolean);
  $('new-room-create').disabled = true;
  try {
    const members = [...new Set(await Promise.all(raw.map((u) => resolveUser(u, true))))].filter((u) => u !== me());
    const encrypted = $('new-room-encrypted').checked; // an encrypted group room must be private
    const info = await act((c) => c.createRoom(name, { visibility: encrypted ? 'private' : $('new-room-visibility').value, members, encrypted }));
    if (!info) return;
    $('new-room-name').value = '';
    $('new-room-members').value = '';
    $('new-room-encrypted').checked = false;
    toggleNewRoom(false);
    upsertRoom(info);
    openRoom(info.id);
    refreshPublicRooms();
  } finally {
    $('new-room-create').disabled = false;
  }
}

async function joinRoom(id) {
  const info = await act((c) => c.joinRoom(id));
  if (info) { upsertRoom(info); openRoom(info.id); }
}

async function openDirect(user, encrypted = false) {
  const info = await act((c) => c.openDirect(user, { encrypted }));
  if (info) { upsertRoom(info); openRoom(info.id); refresh({ rooms: true }); }
}

async function invite(event) {
  event.preventDefault();
  const room = currentRoom();
  const raw = $('invite-user').value.trim();
  if (!room || !raw) return;
  const user = await resolveUser(raw);
  const role = room.role === 'owner' ? $('invite-role').value : undefined;
  const member = await act((c) => c.invite(room.id, user, role));
  if (!member) return;
  $('invite-user').value = '';
  rememberUser({ user: member.user, name: member.name });
  room.members?.set(member.user, member);
  toast(`${member.name || member.user} was added.`, 'info');
  refresh({ header: true, members: true });
}

// Accepts a user id or a display name (case-insensitive); unknown names are looked up on the server. Unless `exact`,
// a search with a single result (a prefix of one user's id or name) stands for that user.
async function resolveUser(raw, exact = false) {
  if (state.users.has(raw)) return raw;
  const byName = (list) => list.find((u) => u.name?.toLowerCase() === raw.toLowerCase());
  const known = byName([...state.users.values()]);
  if (known) return known.user;
  try {
    const users = await api().searchUsers(raw, 10);
    for (const u of users) rememberUser(u);
    const found = users.find((u) => u.user === raw) || byName(users) || (!exact && users.length === 1 ? users[0] : null);
    if (found) return found.user;
  } catch { /* fall back to treating it as an id; ChatKit accepts ids of users who never connected */ }
  return raw;
}

async function removeMember(room, user) {
  if (!confirm(`Remove ${nameOf(user)} from ${room.name}?`)) return;
  if (await act((c) => c.removeMember(room.id, user).then(() => true)) !== true) return;
  room.members?.delete(user);
  refresh({ header: true, members: true });
}

async function leaveRoom() {
  const room = currentRoom();
  if (!room || !confirm(`Leave ${room.name}?`)) return;
  if (await act((c) => c.leaveRoom(room.id).then(() => true)) !== true) return;
  dropRoom(room.id);
  refreshPublicRooms();
}

function toggleMembers(show = $('members-panel').hidden) {
  $('members-panel').hidden = !show;
  $('members-toggle').setAttribute('aria-expanded', String(show));
}

// ---------- sign-in / sign-out ----------

// Development sign-in: POST /dev/signin {"name"} -> {"token","user","name"}; errors come as {"code","message"}.
async function signIn(event) {
  event.preventDefault();
  const name = $('signin-name').value.trim();
  showSigninError('');
  if (!name) { showSigninError('missing_field: Please enter a display name.'); return; }
  $('signin-submit').disabled = true;
  try {
    const res = await fetch('/dev/signin', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok || !body.token) {
      showSigninError(`${body.code || `http_${res.status}`}: ${body.message || `Sign-in failed (HTTP ${res.status}).`}`);
      return;
    }
    for (const key of Object.values(KEYS)) sessionStorage.removeItem(key); // another user's positions and outbox
    save(KEYS.session, body);
    enterApp(body);
  } catch {
    showSigninError('connection_failed: Cannot reach the server. Is it running?');
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
  setStatus('Connecting…', 'connecting');
  refreshAll();
  startClient();
}

function signOut(notice = '') {
  const old = state;
  state = freshState(); // the old client's events now see another state and are ignored
  clearTimeout(old.retryTimer);
  clearTimeout(old.typingIdleTimer);
  clearInterval(old.peopleTimer);
  for (const map of old.typing.values()) for (const t of map.values()) clearTimeout(t);
  void stopEncryption(old);
  void old.client?.close();
  for (const key of Object.values(KEYS)) sessionStorage.removeItem(key);
  document.body.classList.remove('show-chat');
  document.title = 'ChatKit';
  $('app-view').hidden = true;
  $('signin-view').hidden = false;
  $('reconnecting-banner').hidden = true;
  $('connection-error').hidden = true;
  $('composer').value = '';
  toggleNewRoom(false);
  showSigninError(notice);
  $('signin-name').focus();
}

// ---------- wiring ----------

function start() {
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', () => signOut());
  $('reconnect-now').addEventListener('click', () => {
    if (state.client?.state === 'reconnecting') restartClient();
    else { state.retryMs = 500; connectClient(); }
  });
  $('connection-retry').addEventListener('click', () => { $('connection-error').hidden = true; state.retryMs = 500; connectClient(); });
  $('new-room').addEventListener('click', () => toggleNewRoom());
  $('new-room-cancel').addEventListener('click', () => toggleNewRoom(false));
  $('new-room-form').addEventListener('submit', createRoom);
  $('public-refresh').addEventListener('click', refreshPublicRooms);
  let searchTimer = 0;
  $('people-search').addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(refreshPeople, 250); });
  $('people-search').addEventListener('focus', refreshPeople); // people who signed up since the last refresh
  $('back').addEventListener('click', goBack);
  window.addEventListener('popstate', () => { if (state.openRoom && !history.state?.chatkitRoom) closeRoom(); });
  $('members-toggle').addEventListener('click', () => toggleMembers());
  $('members-close').addEventListener('click', () => toggleMembers(false));
  $('safety-toggle').addEventListener('click', () => toggleSafetyNumber());
  $('safety-close').addEventListener('click', () => toggleSafetyNumber(false));
  $('new-room-encrypted').addEventListener('change', () => {
    if ($('new-room-encrypted').checked) $('new-room-visibility').value = 'private';
  });
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
    if (isAtBottom(list)) $('new-messages').hidden = true;
    scheduleReceipt();
  });
  $('new-messages').addEventListener('click', () => { list.scrollTop = list.scrollHeight; });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    scheduleReceipt();
    if (connected()) refreshPeople();
  });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') { toggleMembers(false); toggleNewRoom(false); } });
  // Back online: do not wait for the rest of the backoff.
  window.addEventListener('online', () => { if (state.client?.state === 'reconnecting') restartClient(); });
  // A page kept in the back/forward cache would stay online with a frozen connection: close it, and resume on return.
  window.addEventListener('pagehide', (e) => {
    saveResumeNow();
    if (e.persisted && state.client) stopClient();
  });
  window.addEventListener('pageshow', (e) => {
    if (e.persisted && state.session && !state.client) { setStatus('Reconnecting…', 'connecting'); startClient(); }
  });
  narrow.addEventListener('change', () => refresh({ messages: true }));

  const session = load(KEYS.session, null);
  if (session?.token) enterApp(session);
  else { $('signin-view').hidden = false; $('signin-name').focus(); }
}

start();
