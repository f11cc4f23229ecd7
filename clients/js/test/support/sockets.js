// WebSocket constructors for ChatClient's `WebSocket` option that let tests break a connection on purpose.

/**
 * A constructor whose sockets wrap the global WebSocket. `sockets` lists them in creation order; a socket whose
 * `deaf` is set stops passing frames to the client (a connection that silently stops answering). `onSend(socket,
 * frame)` sees every frame the client sends.
 */
export function wrappedWebSocket({ onSend = () => {} } = {}) {
  const sockets = [];
  class WrappedWebSocket {
    constructor(url, protocols) {
      const ws = (this.ws = new WebSocket(url, protocols));
      this.deaf = false;
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      ws.onopen = (ev) => this.onopen?.(ev);
      ws.onmessage = (ev) => this.deaf || this.onmessage?.(ev);
      ws.onclose = (ev) => this.onclose?.(ev);
      ws.onerror = (ev) => this.onerror?.(ev);
      sockets.push(this);
    }
    get readyState() {
      return this.ws.readyState;
    }
    get protocol() {
      return this.ws.protocol;
    }
    send(data) {
      this.ws.send(data);
      onSend(this, JSON.parse(data));
    }
    close(code, reason) {
      this.ws.close(code, reason);
    }
  }
  return { WebSocket: WrappedWebSocket, sockets };
}
