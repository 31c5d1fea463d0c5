#!/usr/bin/python3
"""The Python anchors of the echo benchmarks: a TCP echo server on asyncio's own loop or
on uvloop's, on the protocol layer or on streams. Run by Debian's /usr/bin/python3 (which
has python3-uvloop).

    server.py asyncio-protocol|asyncio-streams|uvloop-protocol|uvloop-streams [PORT]

PORT defaults to 0 (the kernel picks one). It prints "Serving on 127.0.0.1:PORT" once
listening and serves until killed. Both forms do what acio's example servers do
(examples/echo_server_protocol.c, examples/echo_server_streams.c): the protocol writes
every data_received straight back; the streams handler reads up to 64 KiB, writes it and
awaits drain. TCP_NODELAY is set on every connection (asyncio already does)."""

import asyncio
import signal
import socket
import sys


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.transport.write(data)


async def echo_streams(reader, writer):
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def serve(mode, port):
    loop = asyncio.get_running_loop()
    if mode.endswith("-protocol"):
        server = await loop.create_server(EchoProtocol, "127.0.0.1", port)
    else:
        server = await asyncio.start_server(echo_streams, "127.0.0.1", port)
    port = server.sockets[0].getsockname()[1]
    print(f"Serving on 127.0.0.1:{port}", flush=True)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    loop.add_signal_handler(signal.SIGINT, stop.set_result, None)
    async with server:
        await stop


def main():
    modes = ("asyncio-protocol", "asyncio-streams", "uvloop-protocol", "uvloop-streams")
    if len(sys.argv) < 2 or sys.argv[1] not in modes:
        print("usage: server.py " + "|".join(modes) + " [PORT]", file=sys.stderr)
        sys.exit(2)
    mode = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if mode.startswith("uvloop"):
        import uvloop

        uvloop.install()
    asyncio.run(serve(mode, port))


if __name__ == "__main__":
    main()
