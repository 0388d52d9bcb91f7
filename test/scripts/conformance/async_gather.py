import asyncio

async def job(i):
    await asyncio.sleep(0.01 * (3 - i))
    return i * i

async def main():
    print(await asyncio.gather(*(job(i) for i in range(4))))
    async def agen():
        for i in range(3):
            yield i
            await asyncio.sleep(0)
    print([x async for x in agen()])

asyncio.run(main())
