# Seed 002 (countasync.py): three count() coroutines run concurrently with gather.
# The seed's timing line is left out so the output is deterministic.
import asyncio


async def count():
    print("One")
    await asyncio.sleep(1)
    print("Two")


async def main():
    await asyncio.gather(count(), count(), count())


if __name__ == "__main__":
    asyncio.run(main())
