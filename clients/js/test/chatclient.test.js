// ChatClient against the real sample server (samples/ChatKit.Samples.Web), started by these tests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChatClient, ChatKitError } from '../dist/chatkit.js';
import { EncryptedEnvelope, EndToEndEncryption, EnvelopeKind, MemoryStateStore } from '../dist/e2e.js';
import { buildSample, freePort, nextEvent, rejection, removeDir, signIn, startServer, tempDir } from './support/server.js';
import { wrappedWebSocket } from './support/sockets.js';

let dll;
const clients = new Set();

/** A client of `server` signed in as `session`, with short reconnection delays; closed after the tests. */
function clientFor(server, session, options = {}) {
  const client = new ChatClient({
    url: server.url,
    token: () => session.token,
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 500,
    requestTimeoutMs: 15_000,
    ...options,
  });
  clients.add(client);
  return client;
}

async function closeClients() {
  await Promise.all([...clients].map((client) => client.close()));
  clients.clear();
}

before(async () => {
  dll = await buildSample();
}, { timeout: 10 * 60_000 });

after(closeClients);

describe('against one sample server', () => {
  let server;
  let dir;

  before(async () => {
    dir = tempDir();
    server = await startServer({ dll, port: await freePort(), dir });
  }, { timeout: 90_000 });

  after(async () => {
    await closeClients();
    await server?.kill();
    if (dir) removeDir(dir);
  });

  test('two people talk: direct and group rooms, messages, typing, read receipts, presence', { timeout: 60_000 }, async () => {
    const alice = await signIn(server, 'Alice Talk');
    const bob = await signIn(server, 'Bob Talk');
    const a = clientFor(server, alice);
    const b = clientFor(server, bob);
    const welcome = await a.connect();
    assert.equal(welcome.protocol, 1);
    assert.equal(welcome.user, alice.user);
    assert.equal(welcome.name, 'Alice Talk');
    assert.ok(welcome.limits.maxMessageBytes > 0);
    assert.equal(a.state, 'connected');
    await b.connect();

    // A direct conversation: both get room.added.
    const bobGetsDirect = nextEvent(b, 'room.added', (e) => e.info.kind === 'direct');
    const direct = await a.openDirect(bob.user);
    assert.equal(direct.kind, 'direct');
    assert.equal(direct.peer, bob.user);
    assert.equal((await bobGetsDirect).info.id, direct.id);
    assert.equal((await a.openDirect(bob.user)).id, direct.id, 'opening it again returns the same room');

    // A group room with Bob as member.
    const bobGetsGroup = nextEvent(b, 'room.added', (e) => e.info.name === 'Project X');
    const group = await a.createRoom('Project X', { members: [bob.user] });
    assert.equal(group.kind, 'group');
    assert.equal(group.role, 'owner');
    assert.equal(group.visibility, 'private');
    assert.equal((await bobGetsGroup).info.role, 'member');
    const members = await a.listMembers(group.id);
    assert.deepEqual(members.map((m) => [m.user, m.role]).sort(), [[alice.user, 'owner'], [bob.user, 'member']]);
    assert.deepEqual((await b.listRooms()).map((r) => r.id).sort(), [direct.id, group.id].sort());

    // Messages both ways; the sender's own connection gets the message event too.
    const bobGetsHello = nextEvent(b, 'message', (m) => m.room === direct.id);
    const aliceGetsOwn = nextEvent(a, 'message', (m) => m.room === direct.id);
    const ack = await a.send(direct.id, 'Hello Bob');
    assert.equal(ack.room, direct.id);
    assert.equal(ack.seq, 1);
    assert.equal(ack.duplicate, false);
    const hello = await bobGetsHello;
    assert.deepEqual(
      { room: hello.room, seq: hello.seq, cmid: hello.cmid, sender: hello.sender, body: hello.body },
      { room: direct.id, seq: ack.seq, cmid: ack.cmid, sender: alice.user, body: 'Hello Bob' },
    );
    assert.equal((await aliceGetsOwn).seq, ack.seq);
    const aliceGetsReply = nextEvent(a, 'message', (m) => m.room === group.id);
    await b.send(group.id, 'Hi Alice, in the group');
    assert.equal((await aliceGetsReply).sender, bob.user);

    // Typing: on, then off.
    const aliceSeesTyping = nextEvent(a, 'typing', (e) => e.room === direct.id && e.user === bob.user && e.active);
    await b.typing(direct.id);
    await aliceSeesTyping;
    const aliceSeesStop = nextEvent(a, 'typing', (e) => e.room === direct.id && e.user === bob.user && !e.active);
    await b.typing(direct.id, false);
    await aliceSeesStop;

    // Read receipt.
    const aliceSeesRead = nextEvent(a, 'receipt', (e) => e.room === direct.id && e.user === bob.user && e.kind === 'read');
    const receipt = await b.receipt(direct.id, ack.seq);
    assert.deepEqual(receipt, { room: direct.id, readSeq: ack.seq, deliveredSeq: ack.seq, unread: 0 });
    assert.equal((await aliceSeesRead).seq, ack.seq);
    const bobAsMember = (await a.listMembers(direct.id)).find((m) => m.user === bob.user);
    assert.equal(bobAsMember.readSeq, ack.seq);

    // Presence: asked, then pushed when Bob goes and comes back.
    assert.deepEqual(
      (await a.presence([bob.user])).map((p) => [p.user, p.online]),
      [[bob.user, true]],
    );
    const bobOffline = nextEvent(a, 'presence', (e) => e.user === bob.user && !e.online);
    await b.close();
    assert.equal(b.state, 'closed');
    assert.equal(typeof (await bobOffline).lastSeen, 'string');
    const bobOnline = nextEvent(a, 'presence', (e) => e.user === bob.user && e.online);
    const b2 = clientFor(server, bob);
    await b2.connect();
    await bobOnline;

    assert.ok((await a.searchUsers('bob')).some((u) => u.user === bob.user && u.name === 'Bob Talk' && u.online));
    assert.equal(typeof (await a.ping()), 'number');
  });

  test('membership: public rooms, join, leave, invite, remove', { timeout: 60_000 }, async () => {
    const carol = await signIn(server, 'Carol Rooms');
    const dave = await signIn(server, 'Dave Rooms');
    const c = clientFor(server, carol);
    const d = clientFor(server, dave);
    await Promise.all([c.connect(), d.connect()]);

    const lobby = await c.createRoom('Lobby', { visibility: 'public' });
    assert.ok((await d.publicRooms()).some((r) => r.id === lobby.id));

    const carolSeesJoin = nextEvent(c, 'member.joined', (e) => e.room === lobby.id && e.member.user === dave.user);
    const daveGetsRoom = nextEvent(d, 'room.added', (e) => e.info.id === lobby.id);
    const joined = await d.joinRoom(lobby.id);
    assert.equal(joined.role, 'member');
    await Promise.all([carolSeesJoin, daveGetsRoom]);

    const carolSeesLeave = nextEvent(c, 'member.left', (e) => e.room === lobby.id && e.user === dave.user);
    const daveLosesRoom = nextEvent(d, 'room.removed', (e) => e.room === lobby.id);
    await d.leaveRoom(lobby.id);
    assert.equal((await carolSeesLeave).reason, 'left');
    assert.equal((await daveLosesRoom).reason, 'left');
    assert.equal(d.positions[lobby.id], undefined, 'a room the user left has no position');

    const daveInvited = nextEvent(d, 'room.added', (e) => e.info.id === lobby.id);
    const member = await c.invite(lobby.id, dave.user, 'admin');
    assert.deepEqual([member.user, member.role], [dave.user, 'admin']);
    await daveInvited;

    const daveRemoved = nextEvent(d, 'room.removed', (e) => e.room === lobby.id);
    await c.removeMember(lobby.id, dave.user);
    const removed = await daveRemoved;
    assert.deepEqual([removed.reason, removed.by], ['removed', carol.user]);
  });

  test('send is acknowledged with a seq; the same cmid again is a duplicate with the same seq', { timeout: 60_000 }, async () => {
    const erin = await signIn(server, 'Erin Send');
    const e = clientFor(server, erin);
    await e.connect();
    const room = await e.createRoom('Sends');

    const first = await e.send(room.id, 'one', 'cmid-one');
    assert.deepEqual([first.room, first.seq, first.cmid, first.duplicate], [room.id, 1, 'cmid-one', false]);
    assert.match(first.sentAt, /^\d{4}-\d\d-\d\dT/);
    const again = await e.send(room.id, 'one, sent again', 'cmid-one');
    assert.deepEqual(again, { ...first, duplicate: true });
    const second = await e.send(room.id, 'two');
    assert.equal(second.seq, 2);
    assert.notEqual(second.cmid, first.cmid);
    const page = await e.history(room.id);
    assert.deepEqual(page.messages.map((m) => [m.seq, m.cmid, m.body]), [[1, 'cmid-one', 'one'], [2, second.cmid, 'two']]);

    // A burst above the server's rate burst (welcome.limits.rateBurst) is paced or retried, never lost.
    const count = e.welcome.limits.rateBurst + 30;
    const burst = await Promise.all(Array.from({ length: count }, (_, n) => e.send(room.id, `burst ${n}`)));
    assert.deepEqual(
      burst.map((ack) => ack.seq).sort((x, y) => x - y),
      Array.from({ length: count }, (_, n) => n + 3),
    );
  });

  test('a connection that stops answering is dropped by the keep-alive ping, and the client reconnects', { timeout: 60_000 }, async () => {
    const kim = await signIn(server, 'Kim KeepAlive');
    const { WebSocket, sockets } = wrappedWebSocket();
    const k = clientFor(server, kim, { WebSocket, keepAliveIntervalMs: 200, requestTimeoutMs: 2_000 });
    await k.connect();
    const dropped = nextEvent(k, 'state', (s) => s.state === 'reconnecting');
    const back = nextEvent(k, 'state', (s) => s.state === 'connected');
    sockets[0].deaf = true;
    const { error } = await dropped;
    assert.equal(error.code, 'connection_lost');
    assert.match(error.message, /reply took longer than 2000 ms/);
    await back;
    assert.equal(sockets.length, 2);
    assert.equal(typeof (await k.ping()), 'number');
  });

  test('a send whose reply is lost is sent again with the same cmid after the client reconnects', { timeout: 60_000 }, async () => {
    // Once armed, the socket goes deaf right after a `send` frame went out and drops the connection: the server
    // has the message, the client never hears back.
    const sent = [];
    let armed = false;
    const { WebSocket: LossyWebSocket } = wrappedWebSocket({
      onSend(socket, frame) {
        if (frame.type !== 'send') return;
        sent.push(frame.cmid);
        if (!armed) return;
        armed = false;
        socket.deaf = true;
        socket.close(4000, 'test: reply lost');
      },
    });

    const frank = await signIn(server, 'Frank Retry');
    const f = clientFor(server, frank, { WebSocket: LossyWebSocket });
    await f.connect();
    const room = await f.createRoom('Retries');
    const states = [];
    f.on('state', (s) => states.push(s.state));
    const reconnected = nextEvent(f, 'state', (s) => s.state === 'connected');

    armed = true;
    const ack = await f.send(room.id, 'must be stored once', 'cmid-retry');
    await reconnected;
    assert.deepEqual(states, ['reconnecting', 'connected']);
    assert.deepEqual(sent, ['cmid-retry', 'cmid-retry'], 'the retry kept the cmid');
    assert.equal(ack.cmid, 'cmid-retry');
    assert.equal(ack.seq, 1);
    const page = await f.history(room.id);
    assert.deepEqual(page.messages.map((m) => [m.seq, m.cmid]), [[1, 'cmid-retry']], 'stored exactly once');
  });

  test('history pages backwards in order without duplicates', { timeout: 60_000 }, async () => {
    const gina = await signIn(server, 'Gina History');
    const g = clientFor(server, gina);
    await g.connect();
    const room = await g.createRoom('Long story');
    for (let i = 1; i <= 25; i++) await g.send(room.id, `m${i}`);

    const pages = [];
    let page = await g.history(room.id, { limit: 10 });
    pages.push(page);
    while (page.hasMore) {
      page = await g.history(room.id, { before: page.messages[0].seq, limit: 10 });
      pages.push(page);
    }
    assert.deepEqual(pages.map((p) => p.messages.map((m) => m.seq)), [
      [16, 17, 18, 19, 20, 21, 22, 23, 24, 25],
      [6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
      [1, 2, 3, 4, 5],
    ]);
    assert.deepEqual(pages.map((p) => p.hasMore), [true, true, false]);
    const all = pages.reverse().flatMap((p) => p.messages);
    assert.deepEqual(all.map((m) => m.body), Array.from({ length: 25 }, (_, i) => `m${i + 1}`));
    assert.equal(new Set(all.map((m) => m.seq)).size, 25);

    const forward = await g.history(room.id, { after: 20 });
    assert.deepEqual(forward.messages.map((m) => m.seq), [21, 22, 23, 24, 25]);
    assert.equal(forward.hasMore, false);
    assert.equal(g.positions[room.id], 25);
  });

  test('server errors arrive with their codes', { timeout: 60_000 }, async () => {
    const hank = await signIn(server, 'Hank Errors');
    const ivy = await signIn(server, 'Ivy Errors');
    const h = clientFor(server, hank);
    const i = clientFor(server, ivy);
    await Promise.all([h.connect(), i.connect()]);
    const room = await h.createRoom('Hank only');
    const direct = await h.openDirect(ivy.user);
    await h.send(room.id, 'first');

    const notFound = await rejection(h.history('r_' + '0'.repeat(32)));
    assert.ok(notFound instanceof ChatKitError);
    assert.equal(notFound.name, 'ChatKitError');
    assert.equal(notFound.code, 'not_found');
    assert.match(notFound.message, /does not exist/);

    assert.equal((await rejection(h.send(room.id, 'bad id', 'not a valid cmid!'))).code, 'invalid_field');
    assert.equal((await rejection(h.send(room.id, ''))).code, 'missing_field');
    assert.equal((await rejection(h.createRoom(''))).code, 'missing_field');
    assert.equal((await rejection(h.receipt(room.id, 99))).code, 'invalid_sequence');
    assert.equal((await rejection(h.invite(direct.id, 'someone'))).code, 'direct_room');
    assert.equal((await rejection(i.history(room.id))).code, 'forbidden');
    assert.equal((await rejection(i.joinRoom(room.id))).code, 'forbidden');
    assert.equal((await rejection(h.request('no.such.request', {}))).code, 'unknown_type');

    // The connection is still fine after all that.
    assert.equal(h.state, 'connected');
    assert.equal((await h.history(room.id)).messages.length, 1);
  });

  test('connecting without a valid token fails with unauthenticated', { timeout: 60_000 }, async () => {
    const bad = new ChatClient({ url: server.url, token: () => 'not-a-token' });
    clients.add(bad);
    const states = [];
    bad.on('state', (s) => states.push(s));
    const refused = await rejection(bad.connect());
    assert.ok(refused instanceof ChatKitError);
    assert.equal(refused.code, 'unauthenticated');
    assert.match(refused.message, /401/);
    assert.deepEqual(states.map((s) => s.state), ['connecting', 'closed']);
    assert.equal(states[1].error, refused);

    const anonymous = new ChatClient({ url: server.url });
    clients.add(anonymous);
    const noToken = await rejection(anonymous.connect());
    assert.equal(noToken.code, 'unauthenticated');
    assert.match(noToken.message, /options\.token/);

    // Requests on a client that is not connected fail at once.
    assert.equal((await rejection(anonymous.listRooms())).code, 'not_connected');

    // Nobody listening: connection_failed.
    const nowhere = new ChatClient({ url: `ws://127.0.0.1:${await freePort()}/chat`, token: () => 'x' });
    clients.add(nowhere);
    assert.equal((await rejection(nowhere.connect())).code, 'connection_failed');
  });

  test('a connection without the chatkit.v1 subprotocol is reported as unsupported_protocol', { timeout: 60_000 }, async () => {
    const jo = await signIn(server, 'Jo Protocol');
    // Offers no subprotocol: the server accepts the socket without one (and would close it with 4002).
    class OtherProtocol {
      constructor(url) {
        return new WebSocket(url);
      }
    }
    const client = new ChatClient({ url: server.url, token: () => jo.token, WebSocket: OtherProtocol });
    clients.add(client);
    assert.equal((await rejection(client.connect())).code, 'unsupported_protocol');
  });

  test('end-to-end encryption: group and direct rooms, several devices, safety numbers, restart, a removed device', { timeout: 90_000 }, async () => {
    const alice = await signIn(server, 'Alice Secret');
    const bob = await signIn(server, 'Bob Secret');
    /** A device: its client, its MemoryStateStore and its EndToEndEncryption, started before the client connects. */
    const device = async (session, deviceId, store = new MemoryStateStore()) => {
      const client = clientFor(server, session);
      const e2e = await EndToEndEncryption.start({ client, userId: session.user, deviceId, store });
      await client.connect();
      return { client, e2e, store };
    };
    const a1 = await device(alice, 'alice-laptop');
    const a2 = await device(alice, 'alice-phone');
    const b1 = await device(bob, 'bob-laptop');
    const text = (d, room, sender) => nextEvent(d.e2e, 'message', (m) => m.room === room && m.sender === sender);

    // A group room: Alice's first message carries her sender key to Bob's device and to her own other device.
    const bobAdded = nextEvent(b1.client, 'room.added', (e) => e.info.encrypted);
    const group = await a1.client.createRoom('Secret plans', { members: [bob.user], encrypted: true });
    assert.equal(group.encrypted, true);
    await bobAdded;
    let [atBob, atPhone] = [text(b1, group.id, alice.user), text(a2, group.id, alice.user)];
    await a1.e2e.send(group, 'group hello from the laptop');
    assert.equal((await atBob).body, 'group hello from the laptop');
    assert.equal((await atPhone).body, 'group hello from the laptop');
    const [atLaptop, atPhone2] = [text(a1, group.id, bob.user), text(a2, group.id, bob.user)];
    await b1.e2e.send(group, 'bob answers the group');
    assert.equal((await atLaptop).body, 'bob answers the group');
    assert.equal((await atPhone2).body, 'bob answers the group');

    // A direct encrypted conversation (pairwise ratchets), read by Bob and by Alice's other device.
    const direct = await a1.client.openDirect(bob.user, { encrypted: true });
    assert.equal(direct.encrypted, true);
    [atBob, atPhone] = [text(b1, direct.id, alice.user), text(a2, direct.id, alice.user)];
    const ack = await a1.e2e.send(direct, 'just between us');
    assert.equal((await atBob).body, 'just between us');
    assert.equal((await atPhone).body, 'just between us');

    // The server holds envelopes only.
    for (const room of [group, direct]) {
      const page = await b1.client.history(room.id, { after: 0 });
      assert.ok(page.messages.length >= 1);
      for (const m of page.messages) {
        assert.ok(m.body.startsWith('e2e1:'), `message ${m.seq} of ${room.id} is an envelope`);
        assert.ok(!m.body.includes('between') && !m.body.includes('hello'));
      }
    }

    // Both see the same safety number; Alice's two devices are in it.
    const number = await a1.e2e.safetyNumber(bob.user);
    assert.match(number, /^[0-9]{60}$/);
    assert.equal(await b1.e2e.safetyNumber(alice.user), number);

    // A garbage envelope is reported, not shown; the rooms go on.
    const garbage = nextEvent(a1.e2e, 'undecryptable', (u) => u.message.room === group.id);
    await b1.client.send(group.id, 'e2e1:AAAA');
    assert.equal((await garbage).error.code, 'malformed');

    // Alice's laptop restarts from its store: history shows the texts again, and Bob's sessions go on.
    await a1.e2e.close();
    await a1.client.close();
    const again = await device(alice, 'alice-laptop', a1.store);
    const [mine] = (await again.client.history(direct.id, { after: ack.seq - 1, limit: 1 })).messages;
    assert.equal(await again.e2e.decrypt(mine), 'just between us');
    const reply = text(again, direct.id, bob.user);
    await b1.e2e.send(direct, 'welcome back');
    assert.equal((await reply).body, 'welcome back');

    // Alice's phone leaves the key directory: Bob's next group message is under a new sender key, sent to her laptop
    // only, and the phone's EndToEndEncryption stops.
    await a2.e2e.removeDevice();
    const kept = text(again, group.id, bob.user);
    const sent = await b1.e2e.send(group, 'only devices still listed');
    assert.equal((await kept).body, 'only devices still listed');
    const history = (await b1.client.history(group.id, { before: sent.seq, limit: 5 })).messages;
    const keys = EncryptedEnvelope.parse(history.at(-1).body);
    assert.equal(keys.kind, EnvelopeKind.Keys, 'the new sender key went out just before the message');
    assert.deepEqual(keys.entries.map((e) => `${e.user}/${e.device}`), [`${alice.user}/alice-laptop`]);
    assert.equal((await rejection(a2.e2e.decrypt(history.at(-1)))).name, 'TypeError');
  });

  test('end-to-end encryption sends nothing to a direct room the server lists with a third member', { timeout: 60_000 }, async () => {
    const [alice, bob, mallory] = await Promise.all(['Alice Three', 'Bob Three', 'Mallory Three'].map((name) => signIn(server, name)));
    // A server that lies about the members of direct rooms, as a compromised one could.
    class LyingClient extends ChatClient {
      async listMembers(room) {
        return [...(await super.listMembers(room)), { user: mallory.user, name: 'Mallory Three', role: 'member' }];
      }
    }
    const lying = new LyingClient({ url: server.url, token: () => alice.token, requestTimeoutMs: 15_000 });
    clients.add(lying);
    const e2e = await EndToEndEncryption.start({ client: lying, userId: alice.user, deviceId: 'alice-desk', store: new MemoryStateStore() });
    await lying.connect();
    for (const [session, deviceId] of [[bob, 'bob-desk'], [mallory, 'mallory-desk']]) {
      const client = clientFor(server, session);
      await EndToEndEncryption.start({ client, userId: session.user, deviceId, store: new MemoryStateStore() });
    }
    const direct = await lying.openDirect(bob.user, { encrypted: true });
    const refused = await rejection(e2e.send(direct, 'for bob only'));
    assert.equal(refused.code, 'unknown_device');
    assert.equal((await lying.history(direct.id)).messages.length, 0, 'nothing was sent');
  });
});

test('a server restart: the client reconnects by itself and gets what it missed once, in order', { timeout: 180_000 }, async (t) => {
  const dir = tempDir();
  const port = await freePort();
  let server = await startServer({ dll, port, dir });
  try {
    const alice = await signIn(server, 'Alice Restart');
    const bob = await signIn(server, 'Bob Restart');

    // Alice's connection attempts go to a dead port while `gate.open` is false: Bob's messages after the restart
    // are then surely sent while she is away, so she must get them on resume.
    const gate = { open: true, deadPort: await freePort() };
    class GatedWebSocket {
      constructor(url, protocols) {
        return new WebSocket(gate.open ? url : url.replace(`:${port}/`, `:${gate.deadPort}/`), protocols);
      }
    }
    const a = clientFor(server, alice, { WebSocket: GatedWebSocket });
    const b = clientFor(server, bob);
    await Promise.all([a.connect(), b.connect()]);
    const aliceAdded = nextEvent(a, 'room.added', (e) => e.info.name === 'Restarts');
    const room = await b.createRoom('Restarts', { members: [alice.user] });
    await aliceAdded;

    const seen = [];
    a.on('message', (m) => m.room === room.id && seen.push(m));
    const states = [];
    a.on('state', (s) => states.push(s.state));

    for (let n = 1; n <= 3; n++) {
      const got = nextEvent(a, 'message', (m) => m.body === `before ${n}`);
      await b.send(room.id, `before ${n}`);
      await got;
    }

    gate.open = false;
    const aliceDown = nextEvent(a, 'state', (s) => s.state === 'reconnecting');
    const bobDown = nextEvent(b, 'state', (s) => s.state === 'reconnecting');
    await server.kill();
    await Promise.all([aliceDown, bobDown]);
    const bobUp = nextEvent(b, 'state', (s) => s.state === 'connected', 60_000);
    server = await startServer({ dll, port, dir });
    await bobUp;

    const acks = [];
    for (let n = 4; n <= 8; n++) acks.push(await b.send(room.id, `after ${n}`));
    assert.deepEqual(acks.map((ack) => ack.seq), [4, 5, 6, 7, 8]);
    assert.equal(a.state, 'reconnecting');

    const aliceUp = nextEvent(a, 'state', (s) => s.state === 'connected', 60_000);
    const gotLast = nextEvent(a, 'message', (m) => m.room === room.id && m.seq === 8, 60_000);
    gate.open = true;
    await aliceUp;
    await gotLast;

    // A live message after the reconnection, to show nothing else (no repeat) came before it.
    const gotLive = nextEvent(a, 'message', (m) => m.body === 'live 9');
    await b.send(room.id, 'live 9');
    await gotLive;

    assert.deepEqual(
      seen.map((m) => [m.seq, m.body]),
      [[1, 'before 1'], [2, 'before 2'], [3, 'before 3'], [4, 'after 4'], [5, 'after 5'], [6, 'after 6'], [7, 'after 7'], [8, 'after 8'], [9, 'live 9']],
    );
    assert.deepEqual(states, ['reconnecting', 'connected']);
    assert.equal(a.positions[room.id], 9);
    t.diagnostic(`alice's states: ${states.join(' -> ')}`);
  } catch (error) {
    error.message += `\n--- server log (end) ---\n${server.log().slice(-4000)}`;
    throw error;
  } finally {
    await closeClients();
    await server.kill();
    removeDir(dir);
  }
});
