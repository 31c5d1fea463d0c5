# Seed 003's table: `await asyncio.wait_for(long_task(), timeout=5)`. A long task
# times out (and is cancelled), a quick one returns in time, and the same limit written
# as an `async with asyncio.timeout()` block whose deadline is moved once. Delays are
# scaled down (seconds to tenths).
import asyncio


async def long_task(seconds):
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        print(f"long_task({seconds}) cancelled")
        raise
    return f"slept {seconds}"


async def main():
    try:
        print(await asyncio.wait_for(long_task(1.0), timeout=0.5))
    except TimeoutError:
        print("wait_for: TimeoutError")
    print("wait_for:", await asyncio.wait_for(long_task(0.1), timeout=0.5))

    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(0.2) as cm:
            cm.reschedule(loop.time() + 0.4)
            print("inside:", await long_task(0.3))
            await long_task(1.0)
    except TimeoutError:
        print(f"timeout block: TimeoutError (expired={cm.expired()})")


asyncio.run(main())
