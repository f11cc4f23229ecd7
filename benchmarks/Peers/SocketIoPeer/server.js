// Socket.IO peer for ChatKit's side-by-side benchmarks (contract in ../README.md).
// node server.js --port P [--redis HOST:PORT]
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";

const usage = "usage: node server.js --port P [--redis HOST:PORT]";

function readOptions() {
  let values;
  try {
    ({ values } = parseArgs({ options: { port: { type: "string" }, redis: { type: "string" } }, strict: true }));
  } catch (error) {
    fail(`${error.message}\n${usage}`, 2);
  }
  const port = Number(values.port);
  if (values.port === undefined || !/^\d+$/.test(values.port) || port < 1 || port > 65535) {
    fail(`--port must be a TCP port (1-65535).\n${usage}`, 2);
  }
  return { port, redis: values.redis };
}

function fail(message, code) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

// Two nodes on one Redis: the official adapter, with its own pub and sub clients (node-redis).
async function connectRedis(address) {
  const pub = createClient({ url: `redis://${address}` });
  const sub = pub.duplicate();
  // The adapter logs client errors itself; until it is attached, a failed connect rejects connect() below.
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (error) {
    fail(`Could not connect to Redis at ${address}: ${error.message}`, 1);
  }
  return { pub, sub };
}

const options = readOptions();
const httpServer = createServer();
// Socket.IO's defaults (transports, pingInterval 25 s, pingTimeout 20 s, maxHttpBufferSize 1 MB).
const io = new Server(httpServer);
const redis = options.redis === undefined ? undefined : await connectRedis(options.redis);
if (redis !== undefined) {
  io.adapter(createAdapter(redis.pub, redis.sub));
}

// A connection is one user: CONNECT's auth {"user": ...}, else the query parameter user.
io.use((socket, next) => {
  const user = socket.handshake.auth?.user ?? socket.handshake.query.user;
  if (typeof user !== "string" || user.length === 0) {
    next(new Error('connect with auth {"user": NAME} or ?user=NAME'));
    return;
  }
  socket.data.user = user;
  next();
});

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    if (typeof room !== "string") {
      reply(ack, { error: "join takes a room name" });
      return;
    }
    // The in-memory and Redis adapters join at once, so the ack goes out before any later frame is handled; an
    // adapter that joins asynchronously returns a promise, awaited here.
    const joined = socket.join(room);
    if (joined instanceof Promise) {
      joined.then(() => reply(ack), (error) => reply(ack, { error: error.message }));
    } else {
      reply(ack);
    }
  });

  // The sender is in the room like every member, so io.to (not socket.to) reaches it too.
  socket.on("send", (room, body, ack) => {
    if (typeof room !== "string" || typeof body !== "string") {
      reply(typeof body === "function" ? body : ack, { error: "send takes a room name and a body" });
      return;
    }
    io.to(room).emit("message", room, body);
    reply(ack);
  });
});

function reply(ack, ...args) {
  if (typeof ack === "function") {
    ack(...args);
  }
}

httpServer.once("error", (error) => fail(`Could not listen on 127.0.0.1:${options.port}: ${error.message}`, 1));
httpServer.listen(options.port, "127.0.0.1", () => {
  process.stdout.write(`READY ${options.port}\n`);
});

let stopping = false;
async function stop() {
  if (stopping) {
    return;
  }
  stopping = true;
  // Open sockets would keep the process alive: io.close() disconnects them and closes the HTTP server.
  setTimeout(() => process.exit(0), 5000).unref();
  await io.close();
  if (redis !== undefined) {
    await Promise.allSettled([redis.pub.quit(), redis.sub.quit()]);
  }
  process.exit(0);
}

process.on("SIGTERM", stop);
process.on("SIGINT", stop);
