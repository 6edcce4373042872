"""The practical limit: a bare `websockets` server that broadcasts every frame it receives to every socket.

By default each frame goes through the same Redis as the other two systems (PUBLISH on receive, one
subscriber that broadcasts), so all three pay a Redis round trip; --memory broadcasts in-process instead.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from websockets.asyncio.server import broadcast, serve

CLIENTS: set = set()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--channel", default="bench-raw")
    parser.add_argument("--memory", action="store_true", help="broadcast in-process, no Redis hop")
    args = parser.parse_args()

    publish = None
    relay = None
    if not args.memory:
        import redis.asyncio as redis

        pub = redis.Redis.from_url(args.redis_url)
        sub = redis.Redis.from_url(args.redis_url)
        pubsub = sub.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(args.channel)

        async def publish(message: str | bytes) -> None:
            await pub.publish(args.channel, message)

        async def relay_loop() -> None:
            async for item in pubsub.listen():
                if item["type"] == "message":
                    data = item["data"]
                    broadcast(CLIENTS, data.decode() if isinstance(data, bytes) else data)

        relay = asyncio.create_task(relay_loop())

    async def handler(ws) -> None:
        CLIENTS.add(ws)
        try:
            async for message in ws:
                if publish is None:
                    broadcast(CLIENTS, message)
                else:
                    await publish(message)
        finally:
            CLIENTS.discard(ws)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    # No compression: daphne does not negotiate permessage-deflate either.
    async with serve(handler, args.host, args.port, compression=None, max_size=2**20, ping_interval=None):
        await stop
    if relay is not None:
        relay.cancel()


if __name__ == "__main__":
    asyncio.run(main())
