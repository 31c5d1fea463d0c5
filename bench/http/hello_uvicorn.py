"""The HTTP hello-world bench server on uvicorn: a bare ASGI app answering GET / with
"Hello, World!" (text/plain), access log off, uvloop and httptools when installed (what
`uvicorn --loop auto --http auto` would pick). Prints "Serving on 127.0.0.1:PORT" once
listening. Usage: hello_uvicorn.py [PORT]   (0: a free port)."""
import socket
import sys

import uvicorn

BODY = b"Hello, World!"
HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"13")]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


class Server(uvicorn.Server):
    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        port = sockets[0].getsockname()[1]
        print(f"Serving on 127.0.0.1:{port}", flush=True)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(app, loop="auto", http="auto", access_log=False, log_level="warning",
                            backlog=4096)
    Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
