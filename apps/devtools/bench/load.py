"""A small closed-loop HTTP load generator: `clients` keep-alive connections, each sending its next
request as soon as the previous answer is read, for `seconds`. Plain asyncio sockets (HTTP/1.1,
Content-Length bodies), so the client costs far less CPU than the server it measures."""

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "per_second": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": percentile_ms(self.latencies, 50),
            "p99_ms": percentile_ms(self.latencies, 99),
        }


def percentile_ms(values: list[float], pct: float) -> float | None:
    """The pct-th percentile (nearest rank) of durations in seconds, in milliseconds."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[rank] * 1000, 2)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _sep, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


def request_bytes(method: str, path: str, *, host: str, token: str, body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Token {token}\r\n"
        f"Accept: application/json\r\nConnection: keep-alive\r\n"
    )
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def _client(host, port, next_request, deadline, result: LoadResult, check) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            request = next_request()
            if request is None:
                return
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            try:
                status, body = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                result.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if check(status, body):
                result.requests += 1
            else:
                result.errors += 1
    finally:
        writer.close()


def run_load(
    *,
    host: str,
    port: int,
    requests: Callable[[], bytes | None],
    clients: int,
    seconds: float,
    check: Callable[[int, bytes], bool] = lambda status, body: status == 200,
) -> LoadResult:
    """Drive the server with `clients` connections for `seconds` (or until `requests` returns
    None). Returns counts and per-request latencies."""
    result = LoadResult()

    async def main():
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(_client(host, port, requests, deadline, result, check) for _ in range(clients)))
        result.seconds = time.perf_counter() - started

    asyncio.run(main())
    return result


def cycle_requests(items: list[bytes]) -> Callable[[], bytes]:
    it = itertools.cycle(items)
    return lambda: next(it)
