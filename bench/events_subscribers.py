#!/usr/bin/env python3
"""Holds COUNT `GET /events` streams open and reads them, for the benchmark's subscriber scenario.

Prints `SUBSCRIBED N` once every stream has its 200 and headers, then reads until SIGTERM/SIGINT
or --seconds, and prints one JSON line: streams connected, still open at the end, bytes and
events read (`id:` lines) and heartbeats (comment lines).

Usage: events_subscribers.py --port PORT [--count 100] [--seconds 600] [--host 127.0.0.1]
"""

import argparse
import asyncio
import json
import signal
import sys


class Totals:
    def __init__(self):
        self.connected = 0
        self.open = 0
        self.bytes = 0
        self.events = 0
        self.comments = 0
        self.failures = []


async def subscribe(host: str, port: int, totals: Totals, ready: asyncio.Event, count: int) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as error:
        totals.failures.append(f"connect: {error}")
        return
    writer.write(f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        totals.failures.append(status.decode(errors="replace").strip())
        writer.close()
        return
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    totals.connected += 1
    totals.open += 1
    if totals.connected == count:
        ready.set()
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            totals.bytes += len(line)
            if line.startswith(b"id:"):
                totals.events += 1
            elif line.startswith(b":"):
                totals.comments += 1
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        totals.open -= 1
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=600)
    arguments = parser.parse_args()
    totals = Totals()
    ready = asyncio.Event()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    tasks = [asyncio.create_task(subscribe(arguments.host, arguments.port, totals, ready, arguments.count))
             for _ in range(arguments.count)]
    try:
        await asyncio.wait_for(ready.wait(), timeout=30)
        print(f"SUBSCRIBED {totals.connected}", flush=True)
    except asyncio.TimeoutError:
        print(f"SUBSCRIBE-FAILED {totals.connected} {totals.failures[:3]}", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), timeout=arguments.seconds)
    except asyncio.TimeoutError:
        pass
    still_open = totals.open
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"connected": totals.connected, "openAtEnd": still_open, "bytes": totals.bytes,
                      "events": totals.events, "heartbeats": totals.comments, "failures": totals.failures[:5]}),
          flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
