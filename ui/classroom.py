"""A class that follows its lecturer: its code, the lecturer's key and what the lecturer shows.

A class is joined by its **code**: 40 random bits written as eight characters of Crockford's base32 in two
groups (``K7P4-Q2MX``), which a student can type from the projector (no I, L, O or U; typed in either case,
with or without the dash, an O read as 0 and an I or L as 1). The lecturer holds the **key**: 128 random bits,
URL-safe; only its SHA-256 is stored, and a key is compared in constant time (:func:`hmac.compare_digest`).

A class may hold **polls** ("where does the network look?"): each student's session adds one click, only its
coordinates (0–1 across and down the network's crop) under a random token of that session; a later click of
the same session replaces it.

A class's :class:`Lesson` is what every follower shows: the page, the link's settings on it (architecture,
photo, the page's own settings) and a version that grows with each change, so a follower redraws only when
the version moved. The store keeps lessons in the process, or in Redis when ``CNNVIZ_REDIS_URL`` is set (the
replicas behind nginx then share every class). A class ends when its lecturer ends it or after
:data:`IDLE_S` without a change.

Written here: no library keeps a classroom's browsers in step; the codes and keys come from :mod:`secrets`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: 32 symbols, 5 bits each
CODE_LENGTH = 8  # symbols: 40 bits
KEY_BYTES = 16  # 128 bits
IDLE_S = 4 * 3600  # a class without a change for this long has ended
MAX_SETTINGS = 40  # link settings a lesson may hold
MAX_SETTING_CHARS = 400  # characters of one setting's name or value
MAX_PHOTO_BYTES = 25 * 2**20  # a shared photo: a decoded upload (at most 1.2 megapixels) as PNG is far less
MAX_VOTES = 2000  # clicks kept per poll: one per student's session, a lecture hall's worth
MAX_POLL = 10**6  # a poll's number
_TYPED_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_KEY = re.compile(r"^[A-Za-z0-9_-]{22}$")
_VOTER = re.compile(r"^[A-Za-z0-9_-]{12}$")


class ClassError(Exception):
    """Why a class cannot be joined or driven: ``reason`` is ``unknown`` (no such class, or it ended) or
    ``wrong_key``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_code() -> str:
    """A new class code: :data:`CODE_LENGTH` random symbols of :data:`CODE_ALPHABET`, in two groups."""
    symbols = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{symbols[:4]}-{symbols[4:]}"


def parse_code(text: str) -> str | None:
    """The class code ``text`` spells, as :func:`new_code` writes it; None for anything else (checked before
    any other work, so a hostile link costs nothing)."""
    if not isinstance(text, str) or len(text) > 2 * CODE_LENGTH:
        return None
    symbols = re.sub(r"[\s-]", "", text).upper().translate(_TYPED_AS)
    if len(symbols) != CODE_LENGTH or any(s not in CODE_ALPHABET for s in symbols):
        return None
    return f"{symbols[:4]}-{symbols[4:]}"


def new_key() -> str:
    """A new lecturer's key: :data:`KEY_BYTES` random bytes, URL-safe base64 (22 characters)."""
    return secrets.token_urlsafe(KEY_BYTES)


def parse_key(text: str) -> str | None:
    """``text`` when it has the shape of a key, else None."""
    return text if isinstance(text, str) and _KEY.match(text) else None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _same_key(key: str, digest: str) -> bool:
    return hmac.compare_digest(_digest(key), digest)


@dataclass(frozen=True)
class Lesson:
    """What a class shows: ``page`` (a declared page's name), ``settings`` (the link's names and values on
    it), ``version`` (grows with each change) and ``changed`` (seconds since the epoch)."""

    page: str
    settings: dict[str, str] = field(default_factory=dict)
    version: int = 0
    changed: float = 0.0

    def as_dict(self) -> dict:
        """The lesson as the store keeps it (its time apart)."""
        return {"page": self.page, "settings": self.settings, "version": self.version}

    @staticmethod
    def from_dict(data: dict, changed: float) -> Lesson:
        return Lesson(
            str(data["page"]), {str(k): str(v) for k, v in data["settings"].items()}, int(data["version"]), changed
        )


def _checked(page: str, settings: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The lesson's page and settings, bounded (what a link may hold, never more)."""
    if not isinstance(page, str) or len(page) > MAX_SETTING_CHARS or len(settings) > MAX_SETTINGS:
        raise ValueError("a lesson holds one page and at most a link's settings")
    for name, value in settings.items():
        if len(str(name)) > MAX_SETTING_CHARS or len(str(value)) > MAX_SETTING_CHARS:
            raise ValueError(f"the setting {str(name)[:40]!r} is longer than a link allows")
    return page, {str(k): str(v) for k, v in settings.items()}


def _check_vote(poll: int, voter: str, x: float, y: float) -> tuple[int, str, float, float]:
    if not (isinstance(poll, int) and 1 <= poll <= MAX_POLL) or not _VOTER.match(str(voter)):
        raise ValueError("a vote names a poll (1 to MAX_POLL) and a session's token")
    if not (0.0 <= float(x) <= 1.0 and 0.0 <= float(y) <= 1.0):
        raise ValueError("a click lies on the photo: 0 to 1 across and down")
    return poll, voter, round(float(x), 4), round(float(y), 4)


def new_voter() -> str:
    """A session's token for its clicks: random, naming nobody."""
    return secrets.token_urlsafe(9)


def _check_photo(digest: str, data: bytes) -> None:
    if not re.fullmatch(r"[0-9a-f]{64}", digest) or len(data) > MAX_PHOTO_BYTES:
        raise ValueError("a shared photo is named by its SHA-256 and holds at most MAX_PHOTO_BYTES")


class InProcessClasses:
    """The classes of one process (one replica), behind a lock; ``clock`` gives seconds (tests move it), and
    a class without a change for ``idle_s`` seconds has ended."""

    def __init__(self, clock: Callable[[], float] = time.time, idle_s: float = IDLE_S) -> None:
        self._clock = clock
        self.idle_s = idle_s
        self._lock = threading.Lock()
        self._classes: dict[str, tuple[str, Lesson]] = {}  # code → (key's digest, lesson)
        self._photos: dict[str, tuple[str, bytes]] = {}  # code → (the photo's digest, its bytes)
        self._votes: dict[tuple[str, int], dict[str, tuple[float, float]]] = {}  # (code, poll) → voter → (x, y)

    def start(self, page: str, settings: dict[str, str]) -> tuple[str, str, Lesson]:
        """A new class showing ``page`` with ``settings``: its code, the lecturer's key and the first lesson."""
        page, settings = _checked(page, settings)
        key = new_key()
        with self._lock:
            code = new_code()
            while code in self._classes:
                code = new_code()
            lesson = Lesson(page, settings, 1, self._clock())
            self._classes[code] = (_digest(key), lesson)
        return code, key, lesson

    def lesson(self, code: str) -> Lesson:
        """What class ``code`` shows now; :class:`ClassError` ``unknown`` when it does not exist or ended."""
        with self._lock:
            found = self._live(code)
            return found[1]

    def change(self, code: str, key: str, page: str, settings: dict[str, str]) -> Lesson:
        """Show ``page`` with ``settings`` to class ``code``, for its lecturer (``key``) only."""
        page, settings = _checked(page, settings)
        with self._lock:
            digest, lesson = self._live(code)
            if not _same_key(key, digest):
                raise ClassError("wrong_key")
            if (lesson.page, lesson.settings) == (page, settings):
                return lesson
            changed = Lesson(page, settings, lesson.version + 1, self._clock())
            self._classes[code] = (digest, changed)
            return changed

    def check_key(self, code: str, key: str) -> None:
        """Nothing when ``key`` is class ``code``'s lecturer's; :class:`ClassError` otherwise."""
        with self._lock:
            digest, _ = self._live(code)
        if not _same_key(key, digest):
            raise ClassError("wrong_key")

    def share_photo(self, code: str, key: str, digest: str, data: bytes) -> None:
        """Keep the lecturer's photo (``data``, at most :data:`MAX_PHOTO_BYTES`, named by ``digest``) with the
        class, in place of the one shared before."""
        _check_photo(digest, data)
        self.check_key(code, key)
        with self._lock:
            self._photos[code] = (digest, data)

    def photo(self, code: str, digest: str) -> bytes:
        """The photo class ``code`` shares, when it is the one named ``digest``."""
        with self._lock:
            self._live(code)
            found = self._photos.get(code)
        if found is None or found[0] != digest:
            raise ClassError("unknown")
        return found[1]

    def vote(self, code: str, poll: int, voter: str, x: float, y: float) -> None:
        """``voter``'s click at (``x``, ``y``) in poll ``poll`` of class ``code`` (replacing its earlier one);
        once :data:`MAX_VOTES` sessions have clicked, new ones are not kept."""
        poll, voter, x, y = _check_vote(poll, voter, x, y)
        with self._lock:
            self._live(code)
            votes = self._votes.setdefault((code, poll), {})
            if voter in votes or len(votes) < MAX_VOTES:
                votes[voter] = (x, y)

    def votes(self, code: str, poll: int) -> list[tuple[float, float]]:
        """The clicks of poll ``poll`` of class ``code``, one per session."""
        with self._lock:
            self._live(code)
            return list(self._votes.get((code, poll), {}).values())

    def end(self, code: str, key: str) -> None:
        """End class ``code`` (its lecturer only)."""
        with self._lock:
            digest, _ = self._live(code)
            if not _same_key(key, digest):
                raise ClassError("wrong_key")
            self._forget(code)

    def _forget(self, code: str) -> None:
        del self._classes[code]
        self._photos.pop(code, None)
        for found in [k for k in self._votes if k[0] == code]:
            del self._votes[found]

    def _live(self, code: str) -> tuple[str, Lesson]:
        found = self._classes.get(code)
        if found is None:
            raise ClassError("unknown")
        if self._clock() - found[1].changed > self.idle_s:
            self._forget(code)
            raise ClassError("unknown")
        return found


class RedisClasses:
    """The classes of every replica, in one Redis server: ``<namespace>:class:<code>`` holds the key's digest
    and the lesson as JSON, and expires ``idle_s`` after the last change (Redis ends an idle class by
    itself). A class starts with one ``SET … NX EX`` (a code already taken is never overwritten); a change is
    one transaction that watches the class, checks the key and writes the next version."""

    def __init__(
        self, url: str, namespace: str = "cnnviz", clock: Callable[[], float] = time.time, idle_s: int = IDLE_S
    ) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.namespace = namespace
        self._clock = clock
        self.idle_s = idle_s

    def _name(self, code: str) -> str:
        return f"{self.namespace}:class:{code}"

    def _value(self, digest: str, lesson: Lesson) -> str:
        return json.dumps({"key": digest, "lesson": lesson.as_dict(), "changed": lesson.changed})

    def _read(self, text: bytes | None) -> tuple[str, Lesson]:
        if text is None:
            raise ClassError("unknown")
        data = json.loads(text)
        return data["key"], Lesson.from_dict(data["lesson"], float(data["changed"]))

    def start(self, page: str, settings: dict[str, str]) -> tuple[str, str, Lesson]:
        page, settings = _checked(page, settings)
        key = new_key()
        lesson = Lesson(page, settings, 1, self._clock())
        while True:
            code = new_code()
            if self.client.set(self._name(code), self._value(_digest(key), lesson), nx=True, ex=self.idle_s):
                return code, key, lesson

    def lesson(self, code: str) -> Lesson:
        return self._read(self.client.get(self._name(code)))[1]

    def change(self, code: str, key: str, page: str, settings: dict[str, str]) -> Lesson:
        import redis

        page, settings = _checked(page, settings)
        name = self._name(code)
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(name)
                    digest, lesson = self._read(pipe.get(name))
                    if not _same_key(key, digest):
                        raise ClassError("wrong_key")
                    if (lesson.page, lesson.settings) == (page, settings):
                        return lesson
                    new = Lesson(page, settings, lesson.version + 1, self._clock())
                    pipe.multi()
                    pipe.set(name, self._value(digest, new), ex=self.idle_s)
                    pipe.expire(name + ":photo", self.idle_s)  # a shared photo lives as long as its class
                    pipe.execute()
                    return new
                except redis.WatchError:  # another change came first: read it and try again
                    continue

    def check_key(self, code: str, key: str) -> None:
        digest, _ = self._read(self.client.get(self._name(code)))
        if not _same_key(key, digest):
            raise ClassError("wrong_key")

    def share_photo(self, code: str, key: str, digest: str, data: bytes) -> None:
        _check_photo(digest, data)
        self.check_key(code, key)
        self.client.set(self._name(code) + ":photo", digest.encode() + b"\n" + data, ex=self.idle_s)

    def photo(self, code: str, digest: str) -> bytes:
        stored = self.client.get(self._name(code) + ":photo")
        if stored is None or not stored.startswith(digest.encode() + b"\n"):
            raise ClassError("unknown")
        return stored[len(digest) + 1 :]

    def vote(self, code: str, poll: int, voter: str, x: float, y: float) -> None:
        """As :meth:`InProcessClasses.vote`: one hash per poll (``…:poll:<n>``, voter → "x,y"), expiring with
        the class."""
        poll, voter, x, y = _check_vote(poll, voter, x, y)
        if not self.client.exists(self._name(code)):
            raise ClassError("unknown")
        name = f"{self._name(code)}:poll:{poll}"
        if self.client.hlen(name) >= MAX_VOTES and not self.client.hexists(name, voter):
            return
        with self.client.pipeline() as pipe:
            pipe.hset(name, voter, f"{x},{y}")
            pipe.expire(name, self.idle_s)
            pipe.execute()

    def votes(self, code: str, poll: int) -> list[tuple[float, float]]:
        if not self.client.exists(self._name(code)):
            raise ClassError("unknown")
        found = self.client.hvals(f"{self._name(code)}:poll:{int(poll)}")
        return [tuple(float(v) for v in value.split(b",")) for value in found]

    def end(self, code: str, key: str) -> None:
        self.check_key(code, key)
        polls = list(self.client.scan_iter(match=f"{self._name(code)}:poll:*", count=100))
        self.client.delete(self._name(code), self._name(code) + ":photo", *polls)
