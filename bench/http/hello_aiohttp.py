"""The HTTP hello-world bench server on aiohttp.web, on uvloop when installed: GET /
answers "Hello, World!" (text/plain), no access log. Prints "Serving on 127.0.0.1:PORT"
once listening. Usage: hello_aiohttp.py [PORT]   (0: a free port)."""
import asyncio
import signal
import sys

from aiohttp import web

try:
    import uvloop
except ImportError:
    uvloop = None


async def hello(request):
    return web.Response(text="Hello, World!")


async def main(port):
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096)
    await site.start()
    real = site._server.sockets[0].getsockname()[1]
    print(f"Serving on 127.0.0.1:{real}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    if uvloop:
        uvloop.install()
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
