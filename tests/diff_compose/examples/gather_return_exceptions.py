# Seed 004: gather(*tasks, return_exceptions=True) with one failing task. The seed
# downloads images through an executor; here each "download" is a sleep, so the output
# is deterministic (and says so: no example prints made-up network results as real).
import asyncio


async def download(url):
    print("start download:", url, "(simulated: a 0.2 s sleep, nothing is fetched)")
    await asyncio.sleep(0.2)
    file_name = url.split("/")[-1]
    return f"end download: {file_name}"


async def except_foo():
    raise RuntimeError


async def main():
    url_list = [
        "http://www.deadly-exception.icu:8999/img/Django.png",
        "http://www.deadly-exception.icu:8999/img/antd.png",
        "http://www.deadly-exception.icu:8999/img/etcd.png",
    ]
    tasks = [asyncio.create_task(download(url)) for url in url_list]
    tasks.append(asyncio.create_task(except_foo()))
    ret = await asyncio.gather(*tasks, return_exceptions=True)
    print("ret", ret)


asyncio.run(main())
