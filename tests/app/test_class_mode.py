"""Class mode through AppTest: the real app script for a lecturer and students in one process (the in-process
store), each run standing for one poll. A student follows the lecturer's network in their own language, explores
on their own and comes back; a wrong key follows and changes nothing; unknown, ended and hostile codes are told
and dropped; the lecturer takes the class back from another session with the key."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import class_mode, classroom, run_turns

APP = str(Path(__file__).resolve().parents[2] / "app.py")
DIGIT = {"arch": "lenet5", "image": "digit"}


def opened(query: dict[str, str]) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update(query)
    app.run()
    assert not app.exception, app.exception
    return app


def poll(app: AppTest) -> AppTest:
    """A student's next poll (the lesson a process read is reused for ``MEMO_S``)."""
    time.sleep(class_mode.MEMO_S + 0.05)
    app.run()
    assert not app.exception, app.exception
    return app


def notices(app: AppTest) -> list[str]:
    return [info.value for info in app.info] + [caption.value for caption in app.caption]


@pytest.fixture
def lecturer() -> AppTest:
    return opened({"teach": "new", **DIGIT})


def test_a_student_follows_in_their_language_explores_alone_and_comes_back(lecturer):
    code = lecturer.session_state["_class_code"]
    assert classroom.parse_code(code) == code
    assert "key" not in lecturer.query_params and "teach" not in lecturer.query_params  # the projector shows it
    assert dict(lecturer.query_params)["class"] == code
    assert any(code in text.value and "?class=" in text.value for text in lecturer.markdown)

    student = opened({"class": code, "lang": "pt"})
    assert f"Na turma **{code}**" in student.sidebar.markdown[0].value
    lecturer.selectbox(key="arch").set_value("alexnet2012").run()
    poll(student)
    assert student.session_state["arch"] == "alexnet2012"
    assert dict(student.query_params) == {"arch": "alexnet2012", "image": "digit", "lang": "pt", "class": code}
    assert student.header[0].value.startswith("O que a AlexNet")  # in the student's language

    student.toggle(key=classroom_toggle()).set_value(False).run()
    lecturer.selectbox(key="arch").set_value("vgg16").run()
    poll(student)
    assert student.session_state["arch"] == "alexnet2012"  # on their own
    student.toggle(key=classroom_toggle()).set_value(True).run()
    assert student.session_state["arch"] == "vgg16"  # back with the lecturer at once


def test_a_followers_runs_take_turns_and_the_lecturers_do_not(lecturer, monkeypatch):
    """Every page run goes through the process's turns (ui/run_turns.py), as a follower's only while following."""
    runs: list[bool] = []

    class Recorded(run_turns.Turns):
        @contextmanager
        def run(self, following):
            runs.append(following)
            with super().run(following):
                yield

    monkeypatch.setattr(run_turns, "TURNS", Recorded())
    student = opened({"class": lecturer.session_state["_class_code"]})
    assert runs and all(runs)
    del runs[:]
    lecturer.selectbox(key="arch").set_value("alexnet2012").run()
    assert runs and not any(runs)
    del runs[:]
    poll(student)
    assert student.session_state["arch"] == "alexnet2012" and runs and all(runs)
    del runs[:]
    student.toggle(key=classroom_toggle()).set_value(False).run()  # explores on their own from the next run
    student.selectbox(key="arch").set_value("vgg16").run()
    assert runs[-1] is False
    assert run_turns.TURNS.in_progress() == (0, 0)


def classroom_toggle() -> str:
    return class_mode.FOLLOWING


def test_a_wrong_key_follows_and_changes_nothing_the_right_key_drives(lecturer):
    code = lecturer.session_state["_class_code"]
    before = class_mode.store().lesson(code)
    intruder = opened({"class": code, "key": classroom.new_key(), **DIGIT})
    assert any("not this class's key" in text for text in notices(intruder))
    assert "key" not in intruder.query_params
    intruder.selectbox(key="arch").set_value("resnet50").run()
    assert class_mode.store().lesson(code) == before  # a follower's change is its own, until the next lesson

    key = lecturer.session_state["_class_key"]
    back = opened({"class": code, "key": key})  # the lecturer on another device: the lesson first, then drives
    assert back.session_state["arch"] == "lenet5" and "key" not in back.query_params
    back.selectbox(key="arch").set_value("googlenet").run()
    assert class_mode.store().lesson(code).settings["arch"] == "googlenet"
    assert poll(intruder).session_state["arch"] == "googlenet"


@pytest.mark.parametrize(
    "text",
    ["K" * 5000, "<script>alert(1)</script>", "K7P4-Q2MU", "Ｋ7P4-Q2MX", "K7P4%00Q2MX"],
)
def test_hostile_codes_go_through_the_link_validator(text):
    app = opened({"class": text, "key": "x" * 3000, **DIGIT})
    assert "class" not in app.query_params and "key" not in app.query_params
    assert app.session_state["arch"] == "lenet5" and "_class_code" not in app.session_state
    assert any("“class” setting was not understood" in caption for caption in notices(app))


def test_an_unknown_or_ended_class_is_told_and_the_student_keeps_the_view(lecturer):
    unknown = opened({"class": classroom.new_code(), **DIGIT})
    assert any("does not exist or has ended" in text for text in notices(unknown))
    assert "class" not in unknown.query_params

    code = lecturer.session_state["_class_code"]
    student = opened({"class": code, "lang": "es"})
    lecturer.button(key="class_end").click().run()
    assert any("has ended" in text for text in notices(lecturer)) and "class" not in lecturer.query_params
    poll(student)
    assert any("La clase ha terminado" in text for text in notices(student))
    assert "class" not in student.query_params and student.session_state["arch"] == "lenet5"
