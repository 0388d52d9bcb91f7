"""asyncio coroutines: every resumption is a call, as in cProfile."""
import asyncio


async def leaf(i):
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return i


async def middle(n):
    return sum([await leaf(i) for i in range(n)])


async def main():
    r = await asyncio.gather(middle(3), middle(4))
    print(r)


asyncio.run(main())
