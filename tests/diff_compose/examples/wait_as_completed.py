# Seed 004 (asyncio.as_completed with a timeout) and seed 002 (as_completed over two
# tasks reversing lists): results come back in completion order. Seed 002's sleeps of
# 3 and 10 seconds are scaled down to 0.3 and 1.0.
import asyncio


async def foo(a, *, b, c):
    await asyncio.sleep(1)
    return a + b + c


async def coro(seq):
    await asyncio.sleep(max(seq) / 10)
    return list(reversed(seq))


async def main():
    task_list = [
        asyncio.create_task(foo(1, b=2, c=3), name="task1"),
        asyncio.create_task(foo(4, b=5, c=6), name="task2"),
    ]
    for task in asyncio.as_completed(task_list, timeout=2):
        ret = await task
        print(ret)

    t = asyncio.create_task(coro([3, 2, 1]))
    t2 = asyncio.create_task(coro([10, 5, 0]))
    for res in asyncio.as_completed((t2, t)):
        compl = await res
        print(f"res: {compl} completed")
    print(f"Both tasks done: {all((t.done(), t2.done()))}")

    # And one that times out: the first result arrives, the second does not.
    slow = asyncio.create_task(coro([30]))
    quick = asyncio.create_task(coro([1]))
    try:
        for res in asyncio.as_completed((slow, quick), timeout=0.5):
            print(f"res: {await res}")
    except TimeoutError:
        print("TimeoutError")
    slow.cancel()


asyncio.run(main())
