"""Several replicas as one app: ``deploy/run_local.sh 2`` with the real nginx and redis-server on 127.0.0.1,
driven through the proxy by protocol-level sessions (``cnnviz/streamlit_session.py``) and once by Chromium.

In order: sessions stick to one replica; a map computed on one replica is served from Redis on the other;
a forged Redis entry is refused (never unpickled) and the map is computed again; a class follows its lecturer
across replicas in Chromium, and answers its poll there; a replica killed mid-class drops only its own
sessions, which work again on reload (a follower back in its class); a Redis outage leaves the in-process
cache and a log line; SIGTERM stops every process the script started.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import signal
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import redis
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cnnviz import predict
from cnnviz.gallery import gallery_image
from cnnviz.streamlit_session import ProtocolError, StreamlitSession
from cnnviz.trust.clicks import share_inside
from cnnviz.trust.evidence import evidence_map
from harness import servers
from harness.servers import CHROMIUM
from tests.e2e import class_flow
from tests.e2e.conftest import SCREENSHOTS, PageWatch, upload, wait_until_idle
from tests.e2e.test_deconvnet_browser import IMAGES_LOADED
from ui.class_poll import GRID
from ui.pages import page_named
from ui.text import t

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DIGIT = "arch=lenet5&image=digit"
MAP_TITLE = re.compile(r"^\*\*\(a\) ")
PWNED = Path("/tmp/cnnviz-deploy-pwned")


class Course:
    """The running ``deploy/run_local.sh 2``, with a Redis client and tabs placed on a replica."""

    def __init__(self, started: servers.Course):
        self.started = started
        self.process, self.url, self.run_dir = started.process, started.url, started.run_dir
        self.redis = redis.Redis(port=started.redis_port, socket_timeout=2)
        self.first_port = started.first_port

    def replica_pid(self, replica: str) -> int:
        index = int(replica.rsplit(":", 1)[1]) - self.first_port
        return int((self.run_dir / f"replica-{index}.pid").read_text())

    def logs(self) -> str:
        return "".join(path.read_text(errors="replace") for path in sorted(self.run_dir.glob("replica-*.log")))

    def session_on(self, replica: str | None = None, other_than: str | None = None) -> StreamlitSession:
        """A new tab whose affinity cookie lands on ``replica`` (or on any replica but ``other_than``)."""
        for _ in range(64):
            tab = StreamlitSession(self.url, timeout_s=180)
            tab.http_get("/_stcore/health")
            if (replica is None or tab.replica == replica) and (other_than is None or tab.replica != other_than):
                return tab
        raise AssertionError(f"no cookie reached {replica or 'another replica'} in 64 tries")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    missing = [tool for tool in ("nginx", "redis-server") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing} missing: .ci/run must install Debian's nginx and redis-server")
        pytest.skip(f"{missing} not installed (apt-get install nginx redis-server)")
    course = Course(servers.start_course(2, tmp_path_factory.mktemp("course")))
    yield course
    course.started.stop()


def _map_a(run) -> str | None:
    return next((text for text in run.texts if MAP_TITLE.match(text)), None)


def test_sessions_stick_to_one_replica(course):
    replicas = set()
    for _ in range(12):
        tab = StreamlitSession(course.url, timeout_s=180)
        tab.http_get("/_stcore/health")
        first = tab.replica
        assert first is not None
        replicas.add(first)
        for path in ("/", "/_stcore/host-config", "/_stcore/health"):
            tab.http_get(path)
            assert tab.replica == first, f"{path} went to {tab.replica}, the session began on {first}"
    assert len(replicas) == 2, f"12 sessions all went to {replicas}"

    tab = course.session_on()
    pinned = tab.replica
    run = tab.open("", DIGIT)
    assert tab.replica == pinned  # the websocket's handshake and the images reached the same replica
    assert run.predict_top1() == "3", run.texts  # the gallery's digit is a 3
    run = tab.open("occlusion", DIGIT)
    assert tab.replica == pinned and not run.exceptions
    tab.close()


def test_a_map_computed_on_one_replica_is_served_from_redis_on_the_other(course):
    link = f"{DIGIT}&window=8&stride=4"
    first = course.session_on()
    run = first.open("occlusion", link)
    assert _map_a(run) is None
    run = first.press(run.button("Compute the maps"))
    assert _map_a(run) is not None, run.texts
    assert any(key.startswith(b"cnnviz:result:") for key in course.redis.scan_iter())

    second = course.session_on(other_than=first.replica)
    run = second.open("occlusion", link)
    assert _map_a(run) is not None, "the other replica did not find the map in Redis"
    assert any(text.startswith("Already computed for this image") for text in run.texts), run.texts
    first.close()
    second.close()


def test_a_lecture_prepared_through_the_proxy_answers_from_the_cache_on_every_replica(course, tmp_path, capsys):
    """``cnnviz warm`` through nginx lands on one replica; each link then opens with its results on both: an
    occlusion map, and a lab run the link's settings name."""
    from cnnviz.cli import main

    occlusion = f"occlusion?{DIGIT}&window=6&stride=3"  # a map no other test here computes
    pooling = "pooling?epochs=1&seeds=1&lr=0.01"
    lecture = tmp_path / "lecture.txt"
    lecture.write_text(f"{course.url}/{occlusion}\n{course.url}/{pooling}\n")
    assert main(["warm", str(lecture), "--url", course.url]) == 0
    assert capsys.readouterr().out.count("1 results ready (0 were already)") == 2
    first = course.session_on()
    for tab in (first, course.session_on(other_than=first.replica)):
        run = tab.open(*occlusion.split("?"))
        assert _map_a(run) is not None and t("occl.cached", "en") in run.texts, (tab.replica, run.texts)
        run = tab.open(*pooling.split("?"))
        assert t("pool.press_run", "en") not in run.texts and t("pool.precomputed", "en") not in run.texts
        assert any(text.startswith("**Reading it:**") for text in run.texts), (tab.replica, run.texts)
        tab.close()


def test_a_forged_redis_entry_is_refused_and_the_map_computed_again(course):
    class Explodes:
        def __reduce__(self):
            return (os.system, (f"touch {PWNED}",))

    PWNED.unlink(missing_ok=True)
    link = f"{DIGIT}&window=8&stride=3"
    first = course.session_on()
    run = first.open("occlusion", link)
    first.press(run.button("Compute the maps"))
    for key in course.redis.scan_iter("cnnviz:result:*"):
        if not key.endswith(b":lock"):
            course.redis.set(key, pickle.dumps(Explodes()))
    second = course.session_on(other_than=first.replica)
    run = second.open("occlusion", link)
    assert _map_a(run) is None  # the forged entry is not a map
    run = second.press(run.button("Compute the maps"))
    assert _map_a(run) is not None
    assert not PWNED.exists()
    assert "refused" in course.logs()
    first.close()
    second.close()


def _person(course, browser, on=None, other_than=None, lang="en", locale="en-GB") -> class_flow.Browser:
    """A browser whose affinity cookie lands on replica ``on`` (or on any but ``other_than``)."""
    for _ in range(64):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=locale)
        reached = context.request.get(f"{course.url}/_stcore/health").headers.get("x-cnnviz-replica")
        if (on is None or reached == on) and (other_than is None or reached != other_than):
            return class_flow.Browser(PageWatch(context.new_page(), course.url), lang)
        context.close()
    raise AssertionError(f"no cookie reached {on or 'another replica'} in 64 tries")


def test_a_class_follows_its_lecturer_across_replicas_in_chromium(course, browser, tmp_path):
    """The lecturer on one replica, three students (English and Portuguese) on both: they follow a network, a
    photo, a page and a layer change, and a slider inside a fragment; one explores alone and comes back; a
    wrong key follows; the lecturer's own photo reaches the class only when shared."""
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium")
    lecturer = _person(course, browser)
    first = lecturer.page.context.request.get(f"{course.url}/_stcore/health").headers["x-cnnviz-replica"]
    students = [
        _person(course, browser, other_than=first),
        _person(course, browser, other_than=first, lang="pt", locale="pt-BR"),
        _person(course, browser, on=first),
    ]
    try:
        code, link = class_flow.lecturer_starts(lecturer, course.url, DIGIT)
        assert link == f"{course.url}/?class={code}" and "key" not in lecturer.query()
        assert class_flow.qr_text(lecturer) == link
        assert class_flow.qr_text(lecturer, scale=0.3) == link  # still read with a third of the pixels
        wrong_key = "A" * 22
        for student, extra in zip(students, ("", "", f"&key={wrong_key}"), strict=True):
            student.page.goto(link + extra)
        for student in students:
            class_flow.follows(student, lecturer, time.monotonic(), timeout_s=60)
        students[2].page.get_by_text(t("classroom.wrong_key")).wait_for(timeout=30_000)
        students[1].page.get_by_test_id("stSidebar").get_by_text(f"Na turma {code}").wait_for(timeout=30_000)

        for action in (
            class_flow.pick_network("alexnet2012"),
            class_flow.pick_photo("coffee"),
            class_flow.open_page(t("page.deconvnet")),
            class_flow.pick_layer(t("deconv.layer"), "features.conv3"),
            class_flow.open_page(t("page.blocks")),
            class_flow.slide_to_minimum(t("blocks.dropout_p")),  # a slider in a fragment: no full run
        ):
            since = class_flow.change(lecturer, action)
            for student in students:
                class_flow.follows(student, lecturer, since)
        assert lecturer.path() == "building_blocks" and lecturer.query()["dropout"] == "0"
        heading = t(page_named("blocks").heading_key, "pt")
        students[1].page.get_by_text(heading).first.wait_for(timeout=30_000)  # the follower's own language

        class_flow.set_following(students[0], False)
        since = class_flow.change(lecturer, class_flow.pick_network("lenet5"))
        class_flow.follows(students[1], lecturer, since)
        assert students[0].query()["arch"] == "alexnet2012"  # exploring alone
        class_flow.set_following(students[0], True)
        class_flow.follows(students[0], lecturer, time.monotonic())

        photo = tmp_path / "lecturers-photo.png"
        gallery_image("astronaut").save(photo)
        upload(lecturer.page, photo)
        students[1].page.get_by_text(t("classroom.photo_kept", "pt")).wait_for(timeout=30_000)
        lecturer.page.get_by_text(t("classroom.share_photo"), exact=True).click()
        for student in students:
            student.page.get_by_text(t("classroom.lecturer_photo", student.lang)).wait_for(timeout=30_000)
        for person in (lecturer, *students):
            person.watch.assert_clean()
        print("follow seconds", [[round(s, 2) for s in student.seconds] for student in students])
    finally:
        for person in (lecturer, *students):
            person.page.context.close()


POLL_CLICKS = ((0.55, 0.4), (0.3, 0.7))  # where the student clicks, then clicks again: across and down the photo


def _cell_centre(x: float, y: float) -> tuple[float, float]:
    return (int(x * GRID) + 0.5) / GRID, (int(y * GRID) + 0.5) / GRID


def test_the_class_poll_gathers_clicks_across_replicas_and_the_reveal_compares(course, browser, lite0):
    """The lecturer asks "where does the network look?" on one replica; a student reading Portuguese on the
    other clicks on the photo and changes their mind; the lecturer counts one click, and the reveal shows both
    the class's click beside Grad-CAM and occlusion with the shares the engine computes for it."""
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium")
    lecturer = _person(course, browser)
    first = lecturer.page.context.request.get(f"{course.url}/_stcore/health").headers["x-cnnviz-replica"]
    student = _person(course, browser, other_than=first, lang="pt", locale="pt-BR")
    people = [lecturer, student]
    contexts = [person.page.context for person in people]
    _, link = class_flow.lecturer_starts(lecturer, course.url, "arch=efficientnet_lite0&image=chelsea&lang=en")
    poll = lecturer.page.get_by_test_id("stExpander").filter(has_text=t("poll.title", "en"))
    wait_until_idle(lecturer.page)  # the panel's first run has finished: a click now is not lost to it
    lecturer.page.wait_for_function(IMAGES_LOADED, arg=1, timeout=60_000)  # and the QR code no longer moves the page
    poll.locator("summary").click()
    ask = poll.get_by_role("button", name=t("poll.ask", "en"))
    ask.click()
    wait_until_idle(lecturer.page)
    asked = poll.get_by_text(t("poll.asked", "en"))
    try:
        asked.wait_for(timeout=20_000)
    except PlaywrightTimeout:
        # The first press went unseen in about one loaded full-suite run in four (the page idle, the button
        # still there, no error in the server's log); never alone. The lecturer presses again.
        lecturer.page.screenshot(path=str(SCREENSHOTS / "poll-not-asked.png"), full_page=True)  # to look at
        ask.click()
        asked.wait_for(timeout=60_000)

    student.page.goto(f"{link}&lang=pt")
    student.page.get_by_text(t("poll.click", "pt")).wait_for(timeout=60_000)
    chart = student.page.get_by_test_id("stVegaLiteChart").first
    for x, y in POLL_CLICKS:
        box = chart.locator("g.mark-image image").first.bounding_box()
        assert abs(box["width"] - box["height"]) <= 1, box  # the square crop is drawn square, not squeezed
        student.page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
        cross = chart.locator("g.mark-symbol path").first  # the student's own click, drawn after the rerun
        cross.wait_for(timeout=60_000)
        for _ in range(100):  # until the cross sits on the cell just clicked
            mark = cross.bounding_box()
            if mark and abs(mark["x"] + mark["width"] / 2 - (box["x"] + box["width"] * x)) < box["width"] / GRID:
                break
            student.page.wait_for_timeout(200)
        else:
            raise AssertionError(f"the cross did not move to the click at {x}, {y}")
    assert student.page.get_by_text(t("poll.yours", "pt")).count() == 1

    count = lecturer.page.get_by_test_id("stMetricValue").first
    lecturer.page.wait_for_function("(el) => el.innerText.trim() === '1'", arg=count.element_handle(), timeout=30_000)
    poll.get_by_role("button", name=t("poll.reveal", "en")).click()

    clicks = [_cell_centre(*POLL_CLICKS[-1])]  # the change of mind replaced the first click
    photo = gallery_image("chelsea")
    target = predict(lite0, photo, top=1).scores[0].index
    for person in people:
        lang = person.lang
        person.page.get_by_text(t("poll.class_map", lang, count=1)).wait_for(timeout=120_000)
        for method in ("gradcam", "occlusion"):
            share = share_inside(clicks, evidence_map(lite0, photo, method, target))
            caption = f"{t(f'poll.map_{method}', lang)} · {t('poll.inside', lang, share=share)}"
            shown = person.page.get_by_text(t(f"poll.map_{method}", lang) + " · ").all_inner_texts()
            assert shown == [caption], (shown, clicks)
        person.watch.assert_clean()

    poll.get_by_role("button", name=t("poll.close", "en")).click()
    poll.get_by_role("button", name=t("poll.ask", "en")).wait_for(timeout=60_000)  # ready for the next question
    student.page.get_by_text(t("poll.class_map", "pt", count=1)).wait_for(state="detached", timeout=60_000)
    for context in contexts:
        context.close()


def test_a_killed_replica_drops_only_its_own_sessions(course):
    doomed = course.session_on()
    survivor = course.session_on(other_than=doomed.replica)
    lecturer = course.session_on(other_than=doomed.replica)
    code = parse_qs(lecturer.open("", f"teach=new&{DIGIT}").query_string)["class"][0]
    assert doomed.open("", f"class={code}").predict_top1() == "3"  # a follower, on the replica about to die
    assert survivor.open("", DIGIT).predict_top1() == "3"
    os.kill(course.replica_pid(doomed.replica), signal.SIGKILL)
    time.sleep(1)
    with pytest.raises(ProtocolError):
        doomed.open("", DIGIT)  # a rerun on the dead replica's websocket
    assert survivor.open("", DIGIT).predict_top1() == "3"  # the other replica's session goes on
    doomed.close()
    run = doomed.open("", f"class={code}")  # a reload: same cookie, served by the replica still running
    assert run.predict_top1() == "3" and f"In class **{code}**" in " ".join(run.texts)  # back in the class
    assert doomed.replica == survivor.replica
    survivor.close()
    lecturer.close()
    doomed.close()


def test_the_page_works_in_chromium_through_the_proxy(course, browser):
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = PageWatch(context.new_page(), course.url)
    try:
        watch.page.goto(f"{course.url}/?{DIGIT}")
        ranked = watch.page.locator("ol").filter(has_text=re.compile("—")).first
        ranked.wait_for(timeout=120_000)
        assert ranked.inner_text().splitlines()[0].startswith("3")
        watch.assert_clean()
    finally:
        context.close()


def test_a_redis_outage_falls_back_to_the_in_process_cache(course):
    course.redis.shutdown(nosave=True)
    tab = course.session_on()
    run = tab.open("occlusion", f"{DIGIT}&window=8&stride=2")
    run = tab.press(run.button("Compute the maps"))
    assert _map_a(run) is not None and not run.exceptions
    tab.close()  # a reload: same cookie, same replica, a new session
    run = tab.open("occlusion", f"{DIGIT}&window=8&stride=2")
    assert _map_a(run) is not None  # kept in this replica's own cache
    assert "Redis unavailable" in course.logs()
    tab.close()


def test_sigterm_stops_every_process(course):
    pids = [int(path.read_text()) for path in course.run_dir.glob("replica-*.pid")]
    nginx_pid = int((course.run_dir / "nginx.pid").read_text())
    course.process.send_signal(signal.SIGTERM)
    course.process.wait(timeout=60)
    time.sleep(1)
    for pid in [*pids, nginx_pid]:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid), f"process {pid} still runs"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (FileNotFoundError, IndexError):
        return "zombie"
