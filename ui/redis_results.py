"""The second level of the shared result cache, for several replicas of the app behind one proxy: Redis
(``CNNVIZ_REDIS_URL``, e.g. ``redis://127.0.0.1:6390/0``) holds every result any replica computed, so the
lecturer's link computes once for the whole class whichever replica each student reached, and a lock in
Redis makes the other replicas wait for that one computation instead of repeating it.

Entries are written with :mod:`cnnviz.codec` (no pickle) and refused when larger than
``CNNVIZ_REDIS_MAX_ENTRY_MB`` (default 64) or malformed. When Redis does not answer, the app goes on with
its in-process cache alone and logs one line; it tries Redis again ``RETRY_S`` seconds later.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

from cnnviz.codec import CodecError, decode, encode

LOG = logging.getLogger("cnnviz.redis")
MAX_ENTRY_BYTES = int(float(os.environ.get("CNNVIZ_REDIS_MAX_ENTRY_MB", "64")) * 2**20)
TTL_S = int(os.environ.get("CNNVIZ_REDIS_TTL_S", str(12 * 3600)))  # a lecture day
LEASE_S = 30  # a computing replica's lock lives this long unless renewed (renewed every LEASE_S / 3)
RETRY_S = 5.0  # after Redis failed to answer, how long to use only the in-process cache
TIMEOUT_S = 0.5  # connect and reply timeout of every Redis call


class RedisResults:
    """Results shared between replicas through one Redis server."""

    def __init__(self, url: str, namespace: str = "cnnviz") -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
        self.namespace = namespace
        self._down_until = 0.0
        self._lock = threading.Lock()

    def name(self, key: tuple) -> str:
        """The Redis key of a result key: its SHA-256 (result keys are tuples of strings and numbers)."""
        return f"{self.namespace}:result:{hashlib.sha256(repr(key).encode()).hexdigest()}"

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            if self.available:
                LOG.warning(
                    "Redis unavailable (%s: %s); results stay in this process's cache, retrying in %.0f s",
                    type(exc).__name__,
                    exc,
                    RETRY_S,
                )
            self._down_until = time.monotonic() + RETRY_S

    def get(self, key: tuple) -> Any | None:
        """The result stored for ``key``, or None (absent, refused, or Redis down)."""
        if not self.available:
            return None
        name = self.name(key)
        try:
            if (self.client.strlen(name) or 0) > MAX_ENTRY_BYTES:
                return self._refuse(name, f"over {MAX_ENTRY_BYTES:,} bytes")
            entry = self.client.get(name)
        except redis.RedisError as exc:
            self._failed(exc)
            return None
        if entry is None:
            return None
        try:
            return decode(entry, MAX_ENTRY_BYTES)
        except CodecError as exc:
            return self._refuse(name, str(exc))

    def _refuse(self, name: str, reason: str) -> None:
        LOG.warning("Redis entry %s refused (%s); it will be computed here and replaced", name, reason)
        return None

    def put(self, key: tuple, value: Any) -> None:
        """Store ``value`` for every replica (kept ``TTL_S``); values the format cannot hold stay local."""
        if not self.available:
            return
        try:
            entry = encode(value)
        except CodecError as exc:
            LOG.info("result %s kept in this process only: %s", key[0], exc)
            return
        if len(entry) > MAX_ENTRY_BYTES:
            LOG.info("result %s kept in this process only: %d bytes", key[0], len(entry))
            return
        try:
            self.client.set(self.name(key), entry, ex=TTL_S)
        except redis.RedisError as exc:
            self._failed(exc)

    @contextmanager
    def computing(self, key: tuple, found: list) -> Iterator[bool]:
        """Hold ``key``'s lock while this replica computes it; yields False (and puts the value in ``found``)
        when another replica stored it while this one waited, True when this one must compute. The lock
        is renewed while held, and expires ``LEASE_S`` after a replica dies holding it."""
        lock = None
        if self.available:
            lock = self.client.lock(f"{self.name(key)}:lock", timeout=LEASE_S, sleep=0.1)
            try:
                while not lock.acquire(blocking=True, blocking_timeout=0.5):
                    value = self.get(key)
                    if value is not None:
                        found.append(value)
                        yield False
                        return
            except redis.RedisError as exc:
                self._failed(exc)
                lock = None
        if lock is not None:
            value = self.get(key)
            if value is not None:
                found.append(value)
                self._release(lock)
                yield False
                return
        stop = threading.Event()
        if lock is not None:
            threading.Thread(target=self._renew, args=(lock, stop), daemon=True).start()
        try:
            yield True
        finally:
            stop.set()
            if lock is not None:
                self._release(lock)

    def _renew(self, lock, stop: threading.Event) -> None:
        while not stop.wait(LEASE_S / 3):
            try:
                lock.reacquire()
            except redis.RedisError:
                return

    def _release(self, lock) -> None:
        with contextlib.suppress(redis.RedisError):  # expired or Redis gone: the lease ends by itself
            lock.release()


def from_environment() -> RedisResults | None:
    """The second level named by ``CNNVIZ_REDIS_URL``, or None (one server: the in-process cache alone)."""
    url = os.environ.get("CNNVIZ_REDIS_URL", "").strip()
    return RedisResults(url) if url else None
