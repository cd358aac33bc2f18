"""Class mode in the app: a lecturer starts a class with ``?teach=new``, students join with ``?class=CODE`` and
follow what the lecturer shows (page, network, photo, the page's link settings) until they choose to explore
on their own.

The lecturer's session holds the key (it leaves the address bar at once: the projector shows the address
bar). At the end of every full run of the lecturer's page, and whenever a page's own fragment writes the link
(a slider inside ``st.fragment`` changes without a full run), the page and the link settings the app wrote are
published as the class's lesson (:mod:`ui.classroom`). Each server process watches the classes its followers are in and
wakes a follower's session when its class moves on (:mod:`ui.class_push`); where it cannot, the follower polls
every :data:`POLL_S` seconds in a fragment. A new version switches the follower's page with the lesson's
settings in the link (and the follower's own language), and the page reads them as from any link. The lecturer's own
photo is shown to the class only when the lecturer shares it (kept with the class, as a lossless PNG, at most
:data:`~cnnviz.images.MAX_BYTES`); a student's photo never leaves the student's session.

Written here: Streamlit has no way for one session to drive others.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from urllib.parse import urlencode, urlsplit

import streamlit as st
from PIL import Image
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cnnviz.images import MAX_BYTES
from ui import class_push, links
from ui.classroom import ClassError, InProcessClasses, Lesson, RedisClasses, parse_code, parse_key
from ui.pages import Page, page_named, streamlit_page
from ui.text import t
from ui.uploads import decode_upload

POLL_S = 1.0  # how often a follower asks for the lesson's version, where the server cannot wake it
MEMO_S = 0.3  # a lesson read by one session serves the process's other followers for this long
NOT_FOLLOWED = frozenset({"lang", links.RUNNING, *links.CLASS})  # each student keeps their own language
PHOTO = "photo"  # the lesson's marker of the lecturer's own photo: its digest when shared, else OWN_PHOTO
POLL = "poll"  # the lesson's marker of the class poll (ui.class_poll): its number, "-shown" once revealed
POLL_STATE = "_class_poll"  # the lecturer's poll marker, sent with each lesson
OWN_PHOTO = "own"
PUBLIC_URL_ENV = "CNNVIZ_PUBLIC_URL"  # the address students open, when the server's own is not theirs

_CODE, _KEY, _VERSION, _PUBLISHED, _PHOTO = "_class_code", "_class_key", "_class_version", "_class_sent", "_class_photo"
_SHOWN_PHOTO = "_class_shown_photo"  # a follower's copy of the lecturer's shared photo: (digest, image)
FOLLOWING = "class_following"  # the follower's toggle
_FOLLOWS = "_class_follows"  # whether the follower follows: kept apart from the toggle, whose state Streamlit may drop
SHARING = "class_share_photo"  # the lecturer's toggle

_store_lock = threading.Lock()
_store: InProcessClasses | RedisClasses | None = None
_memo: dict[str, tuple[float, Lesson | ClassError]] = {}
_memo_lock = threading.Lock()


def store() -> InProcessClasses | RedisClasses:
    """The classes of this server: in Redis when ``CNNVIZ_REDIS_URL`` names one (every replica shares them),
    else in this process."""
    global _store
    with _store_lock:
        if _store is None:
            url = os.environ.get("CNNVIZ_REDIS_URL", "").strip()
            _store = RedisClasses(url) if url else InProcessClasses()
        return _store


def _fresh_lesson(code: str) -> Lesson:
    """Class ``code``'s lesson read from the store now (the followers' watcher), kept for :func:`_lesson`."""
    try:
        found = (time.monotonic(), store().lesson(code))
    except ClassError as error:
        found = (time.monotonic(), error)
    with _memo_lock:
        _memo[code] = found
    if isinstance(found[1], ClassError):
        raise found[1]
    return found[1]


_followers = class_push.Followers(_fresh_lesson)


def _lesson(code: str) -> Lesson:
    """Class ``code``'s lesson, read from the store at most once per :data:`MEMO_S` by this process (the
    watcher and every follower's run share the reading)."""
    with _memo_lock:
        found = _memo.get(code)
    if found is None or time.monotonic() - found[0] > MEMO_S:
        return _fresh_lesson(code)
    if isinstance(found[1], ClassError):
        raise found[1]
    return found[1]


def current_lesson() -> Lesson:
    """What this session's class shows now (read at most once per :data:`MEMO_S` by this process);
    :class:`ClassError` when the class ended."""
    return _lesson(code())


def _forget_memo(code: str) -> None:
    with _memo_lock:
        _memo.pop(code, None)


def code() -> str | None:
    """The class this session is in, if any."""
    return st.session_state.get(_CODE)


def is_lecturer() -> bool:
    return st.session_state.get(_KEY) is not None


def is_following() -> bool:
    """Whether this session follows its class's lecturer now."""
    return code() is not None and not is_lecturer() and st.session_state.get(_FOLLOWS, True)


def read_link() -> None:
    """On a session's first run: ``teach=new`` asks for a new class (started by :func:`attend`, which knows the
    page), ``class=CODE`` joins one, and with ``key=KEY`` its lecturer takes it back; the key leaves the
    address bar. A wrong key follows, and says so; an unknown or ended code says so and is dropped."""
    teach = links.read("teach", links.choice(("new",)))
    joined = links.read("class", _code_parser)
    key = links.read("key", _key_parser)
    for name in ("teach", "key"):
        if name in st.query_params:
            del st.query_params[name]
    if teach:
        st.session_state["_class_start"] = True
    elif joined is not None and joined != code():  # a follower's own lesson re-reads the link: already in
        join(joined, key)


def join(joined: str, key: str | None = None) -> bool:
    """Join class ``joined`` (as its lecturer with the right ``key``); False, with a notice, when the class does
    not exist or has ended."""
    try:
        store().lesson(joined)
    except ClassError:
        _leave(notice="classroom.unknown", code=joined)
        return False
    st.session_state[_CODE] = joined
    st.session_state.pop(_VERSION, None)
    st.session_state[_FOLLOWS] = True
    st.session_state.pop(FOLLOWING, None)
    if key is not None:
        try:
            store().check_key(joined, key)
            st.session_state[_KEY] = key
            # Without settings of its own the link takes the class back where it is; a prepared lecturer link
            # (``/occlusion?arch=vgg16&class=…&key=…``) shows the class what it names.
            shown = links.known_names() - links.CLASS - {"lang", links.RUNNING}
            st.session_state["_class_resume"] = not any(name in st.query_params for name in shown)
        except ClassError:
            links.notice("classroom.wrong_key")
    st.query_params["class"] = joined
    return True


def _code_parser(text: str) -> str:
    parsed = parse_code(text)
    if parsed is None:
        raise ValueError("not a class code")
    return parsed


def _key_parser(text: str) -> str:
    parsed = parse_key(text)
    if parsed is None:
        raise ValueError("not a key")
    return parsed


def lesson_settings(page: Page) -> dict[str, str]:
    """What the lecturer's link holds on ``page`` that a class follows: the sidebar's network and photo and the
    page's own settings (not the language), with the lecturer's own photo marked. Read from what the app wrote
    (:func:`ui.links.written`), not from the address bar a fragment's rerun brings, which may be older."""
    fields = set(page.link.fields) if page.link else set()
    settings = {
        name: value
        for name, value in links.written().items()
        if (name in links.SIDEBAR or name in fields) and name not in NOT_FOLLOWED
    }
    choices = st.session_state.get("choices")
    if choices is not None and not choices.from_gallery and choices.image is not None:
        shared = st.session_state.get(SHARING) and st.session_state.get(_PHOTO) == choices.image_digest
        settings[PHOTO] = choices.image_digest if shared else OWN_PHOTO
    if st.session_state.get(POLL_STATE):
        settings[POLL] = st.session_state[POLL_STATE]
    return settings


def attend(page: Page) -> None:
    """Between the sidebar and the page: start the class ``?teach=new`` asked for; for the lecturer, the class
    panel (join link, QR code, sharing, end); for a student, the class box in the sidebar that follows the
    lecturer; for everyone else, a "join a class" box."""
    if st.session_state.pop("_class_start", False):
        _start(page)
    if st.session_state.pop("_class_resume", False):
        _resume()
    if code() is None:
        with st.sidebar:
            _join_box()
        return
    if st.query_params.get("class") != code():  # the navigation clears the link; the class stays in it
        st.query_params["class"] = code()
    if is_lecturer():
        st.session_state["_class_page"] = page.name
        _lecturer_panel(page)
        with st.sidebar:
            st.caption(t("classroom.teaching", code=code()))
    else:
        with st.sidebar:
            _following()


def publish(page: Page) -> None:
    """After the lecturer's page ran: its page and settings become the class's lesson (unchanged ones are not
    sent again)."""
    if not is_lecturer():
        return
    settings = lesson_settings(page)
    sent = (page.name, settings)
    if st.session_state.get(_PUBLISHED) == sent:
        return
    try:
        lesson = store().change(code(), st.session_state[_KEY], page.name, settings)
    except ClassError:
        _leave(notice="classroom.ended")
        return
    st.session_state[_PUBLISHED] = sent
    st.session_state[_VERSION] = lesson.version


def _start(page: Page) -> None:
    class_code, key, lesson = store().start(page.name, lesson_settings(page))
    st.session_state[_CODE], st.session_state[_KEY] = class_code, key
    st.session_state[_VERSION] = lesson.version
    st.session_state[_PUBLISHED] = (page.name, lesson.settings)
    st.query_params["class"] = class_code


def _resume() -> None:
    """The lecturer back in a new session (another device, a reload): the class's lesson first, then drive."""
    try:
        lesson = store().lesson(code())
    except ClassError:
        _leave(notice="classroom.ended")
        return
    st.session_state[_PUBLISHED] = (lesson.page, lesson.settings)
    _apply(code(), lesson)


def _leave(notice: str | None = None, **values) -> None:
    for key in (_CODE, _KEY, _VERSION, _PUBLISHED, _PHOTO, FOLLOWING, _FOLLOWS, SHARING, _SHOWN_PHOTO, POLL_STATE):
        st.session_state.pop(key, None)
    if "class" in st.query_params:
        del st.query_params["class"]
    if notice is not None:
        links.notice(notice, **values)


def public_base(page: Page) -> str:
    """The address students open: ``CNNVIZ_PUBLIC_URL`` when set, else the lecturer's browser's, without the
    page's path (``http://host:port``)."""
    configured = os.environ.get(PUBLIC_URL_ENV, "").strip().rstrip("/")
    if configured:
        return configured
    url = (st.context.url or "").rstrip("/")
    if url and page.url_path and url.endswith("/" + page.url_path):
        url = url[: -len(page.url_path) - 1]
    if not url:
        host = st.context.headers.get("Host") or "localhost:8501"
        url = f"http://{host}"
    return url


def join_link(base: str, class_code: str) -> str:
    return f"{base}/?{urlencode({'class': class_code})}"


def qr_png(text: str, pixels_per_module: int = 12) -> bytes:
    """``text`` as a QR code (PNG, error correction M, a 4-module quiet zone).

    segno rather than qrcode: pure Python with no dependency (qrcode needs Pillow for PNG and picks its own
    version), and it writes PNG itself at a chosen module size."""
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=pixels_per_module, border=4)
    return buffer.getvalue()


def _is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")


def _lecturer_panel(page: Page) -> None:
    class_code = code()
    base = public_base(page)
    link = join_link(base, class_code)
    with st.expander(t("classroom.panel", code=class_code), expanded=True, icon=":material/co_present:"):
        qr, words = st.columns([1, 1])
        qr.image(qr_png(link), width=420, caption=t("classroom.scan"))
        with words:
            st.markdown(t("classroom.join_at", link=link, code=class_code))
            st.code(link, language=None)
            if _is_local(base):
                st.warning(t("classroom.local_address", env=PUBLIC_URL_ENV), icon=":material/lan:")
            st.caption(t("classroom.lecturer_drives"))
            choices = st.session_state.get("choices")
            own_photo = choices is not None and not choices.from_gallery and choices.image is not None
            if own_photo:
                st.toggle(t("classroom.share_photo"), key=SHARING, help=t("classroom.share_photo_help"))
                if st.session_state.get(SHARING):
                    _share_photo(choices)
            if st.toggle(t("classroom.show_key"), key="class_show_key"):
                st.caption(t("classroom.key_private"))
                st.code(f"{link}&key={st.session_state[_KEY]}", language=None)
            if st.button(t("classroom.end"), key="class_end", icon=":material/stop_circle:"):
                with contextlib.suppress(ClassError):  # already ended (idle): ending it again is nothing
                    store().end(class_code, st.session_state[_KEY])
                _forget_memo(class_code)
                _leave(notice="classroom.you_ended", code=class_code)
                st.rerun()


def _share_photo(choices) -> None:
    """Keep the lecturer's own photo with the class (once per photo)."""
    if st.session_state.get(_PHOTO) == choices.image_digest:
        return
    buffer = io.BytesIO()
    choices.image.save(buffer, format="PNG")
    data = buffer.getvalue()
    if len(data) > MAX_BYTES:
        st.caption(t("classroom.photo_too_big"))
        return
    try:
        store().share_photo(code(), st.session_state[_KEY], choices.image_digest, data)
    except ClassError:
        return
    st.session_state[_PHOTO] = choices.image_digest


def _publish_from_fragment() -> None:
    """A lecturer's page fragment wrote the link (a slider inside ``st.fragment``): publish at once, since no
    full run follows. A full run publishes once, at its end (:func:`publish`), not at each partial write."""
    ctx = get_script_run_ctx()
    if ctx is None or not ctx.fragment_ids_this_run or not is_lecturer():
        return
    name = st.session_state.get("_class_page")
    if name is not None:
        publish(page_named(name))


links.after_write(_publish_from_fragment)


def _follow_box() -> None:
    """A student's class box: the code, follow or explore on my own; applies each new lesson while following."""
    class_code = code()
    if class_code is None:
        return
    session_id = get_script_run_ctx().session_id
    try:
        lesson = _lesson(class_code)
    except ClassError:
        _followers.leave(session_id)
        _leave(notice="classroom.ended")
        st.rerun(scope="app")
    st.markdown(t("classroom.in_class", code=class_code))
    follows = st.session_state.get(_FOLLOWS, True)
    following = st.toggle(t("classroom.follow"), value=follows, key=FOLLOWING, help=t("classroom.follow_help"))
    st.session_state[_FOLLOWS] = following
    if not following:
        _followers.leave(session_id)
        st.session_state.pop(_VERSION, None)  # back to following: the lecturer's view at once
        st.caption(t("classroom.on_my_own"))
        return
    if lesson.settings.get(PHOTO) == OWN_PHOTO:
        st.caption(t("classroom.photo_kept"))
    if st.session_state.get(_VERSION) != lesson.version:
        _apply(class_code, lesson)
    _followers.follow(session_id, class_code, lesson.version)  # woken by the next change


def catch_up() -> None:
    """Before the sidebar: a following student whose page is behind the class's lesson goes to the lesson at
    once. The run that would draw the old page and sidebar first, only to leave them, is not made (a change
    of lesson costs each follower one run instead of one and a half)."""
    class_code = code()
    if class_code is None or not is_following() or not st.session_state.get(FOLLOWING, True):
        return
    try:
        lesson = _lesson(class_code)
    except ClassError:
        return  # the class box says so, where the student sees it
    if st.session_state.get(_VERSION) != lesson.version:
        _apply(class_code, lesson)


_polled_box = st.fragment(run_every=POLL_S)(_follow_box)  # where the server cannot wake a session
_woken_box = st.fragment(_follow_box)


def _following() -> None:
    """The class box, woken by the server on each change (:mod:`ui.class_push`), or polling where it cannot."""
    (_woken_box if class_push.available() else _polled_box)()


def _apply(class_code: str, lesson: Lesson) -> None:
    """Show ``lesson``: its page, with its settings in the link (and this student's language); the sidebar and
    the page read them as they read any link."""
    try:
        target = page_named(lesson.page)
    except StopIteration:
        return
    st.session_state[_VERSION] = lesson.version
    settings = {name: value for name, value in lesson.settings.items() if name in links.known_names()}
    if target.link:
        target.link.forget(settings)
    _take_photo(class_code, lesson.settings.get(PHOTO))
    st.session_state.pop("_initialised", None)  # the sidebar reads the link again, and so does each page
    links.read_again()
    query = {**settings, "lang": st.session_state.get("lang", "en"), "class": class_code}
    st.switch_page(streamlit_page(target, t(target.title_key)), query_params=query)


def _take_photo(class_code: str, digest: str | None) -> None:
    """The lecturer's shared photo for this session (decoded as any upload), or none."""
    if digest in (None, OWN_PHOTO):
        st.session_state.pop(_SHOWN_PHOTO, None)
        return
    shown = st.session_state.get(_SHOWN_PHOTO)
    if shown is not None and shown[0] == digest:
        return
    try:
        data = store().photo(class_code, digest)
    except ClassError:
        return
    decoded = decode_upload(data)
    if decoded.error is None:
        st.session_state[_SHOWN_PHOTO] = (digest, decoded.image)


def shared_photo() -> tuple[str, Image.Image] | None:
    """The lecturer's photo this follower shows: (the lecturer's digest of it, image), or None."""
    if not is_following():
        return None
    return st.session_state.get(_SHOWN_PHOTO)


def _join_box() -> None:
    with st.expander(t("classroom.join"), icon=":material/school:"):
        typed = st.text_input(t("classroom.code"), key="class_typed", max_chars=16, placeholder="K7P4-Q2MX")
        if st.button(t("classroom.join_button"), key="class_join") and typed:
            joined = parse_code(typed)
            if joined is None:
                st.caption(t("classroom.not_a_code"))
            elif join(joined):
                st.rerun()
