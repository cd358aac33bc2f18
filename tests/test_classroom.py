"""A class that follows its lecturer, the store beneath it: codes a student can type and that carry 40 random
bits, 128-bit keys stored only as digests, hostile codes and keys refused before any work, only the key's
holder changes or ends a class, versions that grow with each change, a class ended after four idle hours, and
two replicas sharing every class through a real Redis server."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from harness.servers import free_port
from ui import classroom
from ui.class_push import Followers
from ui.classroom import ClassError, InProcessClasses, RedisClasses


class Clock:
    """Seconds that a test moves."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def redis_url():
    """A real redis-server on a free port, without persistence, for this module."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server missing: .ci/run must install Debian's redis-server")
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    import redis

    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(params=["process", "redis"])
def store(request):
    clock = Clock()
    if request.param == "process":
        return InProcessClasses(clock), clock
    return RedisClasses(request.getfixturevalue("redis_url"), namespace=f"test{free_port()}", clock=clock), clock


def test_codes_carry_40_random_bits_and_read_as_typed():
    codes = {classroom.new_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(len(c) == 9 and c[4] == "-" for c in codes)
    assert len(classroom.CODE_ALPHABET) ** classroom.CODE_LENGTH == 2**40
    assert {s for c in codes for s in c.replace("-", "")} == set(classroom.CODE_ALPHABET)  # every symbol drawn
    code = classroom.new_code()
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert classroom.parse_code(typed) == code and classroom.parse_code(code.replace("-", "")) == code
    key = classroom.new_key()
    assert len(key) == 22 and classroom.parse_key(key) == key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "K7P4-Q2M",
        "K7P4-Q2MXX",
        "K7P4-Q2M!",
        "K7P4-Q2MU",
        "K" * 10_000,
        "K7P4\x00Q2MX",
        "Ｋ7P4-Q2MX",
        None,
        12345678,
    ],
)
def test_hostile_codes_and_keys_are_refused_before_any_work(text):
    assert classroom.parse_code(text) is None
    assert classroom.parse_key(text) is None
    assert classroom.parse_key("a" * 21) is None and classroom.parse_key("a" * 21 + "/") is None


def test_only_the_lecturer_drives_and_followers_see_each_version(store):
    classes, _ = store
    code, key, first = classes.start("deconvnet", {"arch": "vgg16", "layer": "features.28"})
    assert first.version == 1 and classes.lesson(code) == first
    changed = classes.change(code, key, "occlusion", {"arch": "vgg16", "stride": "8"})
    assert changed.version == 2 and classes.lesson(code).settings == {"arch": "vgg16", "stride": "8"}
    assert classes.change(code, key, "occlusion", {"arch": "vgg16", "stride": "8"}).version == 2  # no change
    for wrong in (classroom.new_key(), key[:-1] + ("A" if key[-1] != "A" else "B")):
        with pytest.raises(ClassError) as refused:
            classes.change(code, wrong, "predict", {"arch": "lenet5"})
        assert refused.value.reason == "wrong_key"
        with pytest.raises(ClassError):
            classes.end(code, wrong)
    assert classes.lesson(code) == changed  # a wrong key changed nothing
    with pytest.raises(ValueError):
        classes.change(code, key, "predict", {"x": "y" * 10_000})
    with pytest.raises(ValueError):
        classes.change(code, key, "predict", {str(i): "1" for i in range(100)})
    classes.end(code, key)
    with pytest.raises(ClassError) as ended:
        classes.lesson(code)
    assert ended.value.reason == "unknown"
    with pytest.raises(ClassError):
        classes.lesson(classroom.new_code())


def test_a_class_ends_after_four_idle_hours_and_a_change_keeps_it(store):
    classes, clock = store
    if isinstance(classes, RedisClasses):
        classes.idle_s = 1  # Redis's own expiry, in whole seconds: one second stands for four hours
        code, key, _ = classes.start("predict", {})
        time.sleep(0.6)
        classes.change(code, key, "layers", {})
        time.sleep(0.6)
        assert classes.lesson(code).page == "layers"  # the change renewed the class
        time.sleep(1.2)
    else:
        code, key, _ = classes.start("predict", {})
        clock.now += classroom.IDLE_S - 1
        classes.change(code, key, "layers", {})
        clock.now += classroom.IDLE_S - 1
        assert classes.lesson(code).page == "layers"
        clock.now += 2
    with pytest.raises(ClassError):
        classes.lesson(code)


def test_two_replicas_share_a_class_through_redis(redis_url):
    lecturer_replica, student_replica = RedisClasses(redis_url, "shared"), RedisClasses(redis_url, "shared")
    code, key, _ = lecturer_replica.start("predict", {"arch": "efficientnet_lite0", "image": "chelsea"})
    assert student_replica.lesson(code).settings["image"] == "chelsea"
    student_replica.change(code, key, "layers", {"arch": "resnet50"})  # the lecturer may reach either replica
    assert lecturer_replica.lesson(code).page == "layers" and lecturer_replica.lesson(code).version == 2
    stored = lecturer_replica.client.get(f"shared:class:{code}").decode()
    assert key not in stored and classroom._digest(key) in stored  # only the key's digest is kept


def test_only_the_lecturer_shares_a_photo_and_it_ends_with_the_class(store):
    classes, _ = store
    code, key, _ = classes.start("predict", {})
    digest, data = "ab" * 32, b"\x89PNG the lecturer's photo"
    with pytest.raises(ClassError):
        classes.photo(code, digest)  # nothing shared yet
    with pytest.raises(ClassError):
        classes.share_photo(code, classroom.new_key(), digest, data)
    with pytest.raises(ValueError):
        classes.share_photo(code, key, "../../etc/passwd", data)
    with pytest.raises(ValueError):
        classes.share_photo(code, key, digest, b"x" * (classroom.MAX_PHOTO_BYTES + 1))
    classes.check_key(code, key)
    classes.share_photo(code, key, digest, data)
    assert classes.photo(code, digest) == data
    with pytest.raises(ClassError):
        classes.photo(code, "cd" * 32)  # only the photo the lesson names
    classes.end(code, key)
    with pytest.raises(ClassError):
        classes.photo(code, digest)


def test_a_poll_keeps_one_click_per_session_only_its_coordinates_and_ends_with_the_class(store, monkeypatch):
    classes, _ = store
    code, key, _ = classes.start("predict", {})
    first, second = classroom.new_voter(), classroom.new_voter()
    assert first != second and len(first) == 12
    classes.vote(code, 1, first, 0.25, 0.5)
    classes.vote(code, 1, first, 0.75, 0.5)  # a change of mind replaces the click
    classes.vote(code, 1, second, 0.5, 0.123456789)
    classes.vote(code, 2, first, 0.1, 0.1)  # another poll of the class
    assert sorted(classes.votes(code, 1)) == [(0.5, 0.1235), (0.75, 0.5)] and classes.votes(code, 2) == [(0.1, 0.1)]
    for bad in ((0, first, 0.5, 0.5), (1, "../etc", 0.5, 0.5), (1, first, 1.5, 0.5), (1, first, 0.5, float("nan"))):
        with pytest.raises(ValueError):
            classes.vote(code, *bad)
    monkeypatch.setattr(classroom, "MAX_VOTES", 2)
    classes.vote(code, 1, classroom.new_voter(), 0.9, 0.9)  # a third session: the poll is full
    classes.vote(code, 1, first, 0.3, 0.3)  # those already in may still change their click
    assert sorted(classes.votes(code, 1)) == [(0.3, 0.3), (0.5, 0.1235)]
    classes.end(code, key)
    with pytest.raises(ClassError):
        classes.votes(code, 1)
    with pytest.raises(ClassError):
        classes.vote(code, 1, first, 0.5, 0.5)


def test_students_on_two_replicas_click_in_one_poll(redis_url):
    lecturer_replica, student_replica = RedisClasses(redis_url, "polls"), RedisClasses(redis_url, "polls")
    code, key, _ = lecturer_replica.start("predict", {})
    student_replica.vote(code, 1, classroom.new_voter(), 0.5, 0.5)
    lecturer_replica.vote(code, 1, classroom.new_voter(), 0.2, 0.8)
    assert sorted(lecturer_replica.votes(code, 1)) == [(0.2, 0.8), (0.5, 0.5)]
    assert lecturer_replica.client.ttl(f"polls:class:{code}:poll:1") > 0  # it expires with an idle class
    lecturer_replica.end(code, key)
    assert not lecturer_replica.client.exists(f"polls:class:{code}:poll:1")


def test_the_watcher_wakes_each_follower_once_per_change_and_forgets_closed_sessions():
    classes = InProcessClasses()
    code, key, first = classes.start("predict", {"arch": "lenet5"})
    woken: list[str] = []
    closed = {"gone"}
    followers = Followers(classes.lesson, wake=lambda sid: woken.append(sid) or sid not in closed)
    followers._thread = object()  # rounds by hand: no thread
    for session in ("a", "b", "gone"):
        followers.follow(session, code, first.version)
    followers.check()
    assert woken == []  # nothing changed: nobody is woken
    classes.change(code, key, "layers", {"arch": "lenet5"})
    followers.check()
    followers.check()
    assert woken == ["a", "b"]  # once each, however many rounds; two on their way at a time (WAKE_AHEAD)
    followers.follow("a", code, 2)  # a's run reached its class box: its page shows the change
    assert followers.wake_due() == 0 and woken == ["a", "b", "gone"]  # the next one, at once
    followers.follow("b", code, 2)
    classes.change(code, key, "deconvnet", {"arch": "lenet5"})
    woken.clear()
    followers.check()
    assert sorted(woken) == ["a", "b"]  # the closed session was forgotten
    followers.leave("b")  # b explores on its own
    followers.follow("a", code, 3)
    classes.end(code, key)
    woken.clear()
    followers.check()
    assert woken == ["a"]  # an ended class wakes its followers, to say so


def test_a_change_wakes_a_hundred_followers_a_few_at_a_time_as_each_reaches_its_box(monkeypatch):
    """Woken all at once, a hundred runs would start together and crowd the interpreter an explorer's run in
    the same process needs (ui/run_turns.py); a woken run that never reaches its box holds nobody back for long."""
    from ui import class_push

    monkeypatch.setattr(class_push, "WAKE_TIMEOUT_S", 0.1)
    classes = InProcessClasses()
    code, key, first = classes.start("predict", {"arch": "lenet5"})
    woken: list[str] = []
    followers = Followers(classes.lesson, wake=lambda sid: woken.append(sid) or True)
    followers._thread = object()
    sessions = [f"s{n:03}" for n in range(100)]
    for session in sessions:
        followers.follow(session, code, first.version)
    classes.change(code, key, "layers", {"arch": "lenet5"})
    followers.check()
    assert woken == sessions[: class_push.WAKE_AHEAD]
    for arrived in range(50):  # each woken run reaches its box in turn, and the next is woken
        followers.follow(woken[arrived], code, 2)
        assert followers.wake_due() == 100 - class_push.WAKE_AHEAD - arrived - 1
    assert woken == sessions[: 50 + class_push.WAKE_AHEAD]  # in the order they were due, each once
    time.sleep(0.15)  # the two on their way never arrive (their tabs closed mid-run)
    assert followers.wake_due() == 100 - 52 - 2 and len(woken) == 54
