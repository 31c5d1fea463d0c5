# Seed 004 (asyncio.wait with a timeout): two named tasks; with timeout=2 both are done,
# with timeout=0.5 both are still pending. The seed prints the task sets' reprs; here
# the names and results are printed sorted so the output is deterministic.
import asyncio


async def foo(a, *, b, c):
    await asyncio.sleep(1)
    return a + b + c


def show(label, tasks):
    items = sorted(tasks, key=lambda t: t.get_name())
    print(label, " ".join(f"{t.get_name()}={t.result()}" if t.done() else t.get_name()
                          for t in items))


async def main():
    for timeout in (2, 0.5):
        task_list = [
            asyncio.create_task(foo(1, b=2, c=3), name="task1"),
            asyncio.create_task(foo(4, b=5, c=6), name="task2"),
        ]
        done, pending = await asyncio.wait(task_list, timeout=timeout)
        print(f"timeout={timeout}:")
        show("  done:", done)
        show("  pending:", pending)
        for t in pending:
            t.cancel()
        await asyncio.wait(task_list)


asyncio.run(main())
