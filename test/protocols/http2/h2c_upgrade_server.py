# An h2c server that accepts `Upgrade: h2c` (RFC 7540 §3.2) and prior
# knowledge, on python3-h2: answers every request 200 "ok" (or 404 for /nope).
# Prints its port, serves until killed. Node's http2 and nghttpd speak only
# prior knowledge in cleartext, so the Upgrade tests need this one.
import socket, sys, threading
import h2.config, h2.connection, h2.events

def respond(conn, sock, stream_id, path):
    status = b'404' if path == b'/nope' else b'200'
    body = b'ok\n'
    conn.send_headers(stream_id, [(b':status', status), (b'content-type', b'text/plain'), (b'content-length', str(len(body)).encode())])
    conn.send_data(stream_id, body, end_stream=True)
    sock.sendall(conn.data_to_send())

def serve(sock):
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return
        data += chunk
    head, rest = data.split(b'\r\n\r\n', 1)
    if head.startswith(b'PRI * HTTP/2.0'):
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        pending = data
    else:
        lines = head.split(b'\r\n')
        path = lines[0].split(b' ')[1]
        settings = next(l.split(b':', 1)[1].strip() for l in lines if l.lower().startswith(b'http2-settings:'))
        sock.sendall(b'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n')
        conn.initiate_upgrade_connection(settings)
        sock.sendall(conn.data_to_send())
        respond(conn, sock, 1, path)
        pending = rest
    paths = {}
    while True:
        if pending:
            for ev in conn.receive_data(pending):
                if isinstance(ev, h2.events.RequestReceived):
                    paths[ev.stream_id] = dict(ev.headers)[b':path']
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id in paths:
                    respond(conn, sock, ev.stream_id, paths.pop(ev.stream_id))
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    return
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
        pending = sock.recv(65536)
        if not pending:
            return

def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', 0))
    srv.listen(64)
    print(srv.getsockname()[1], flush=True)
    while True:
        s, _ = srv.accept()
        threading.Thread(target=lambda: (serve(s), s.close()), daemon=True).start()

main()
