"""cnnviz web app: the router and the shared sidebar.

Each page is declared by its view, ``views/<name>.py`` (``@page`` in ``ui/pages.py``: URL path, icon,
group, title); the navigation is built from those declarations (the default page, Predict, is ``/``).
The folder is not called ``pages/``: Streamlit would also discover files there as legacy pages, which
then shadow the ``st.navigation`` routes. Run with ``streamlit run app.py``.
"""

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui import class_mode, class_poll, prepare
from ui.links import show_notices
from ui.pages import GROUPS, declared_pages, page_icon, streamlit_page
from ui.run_turns import TURNS
from ui.sidebar import init_session, render_sidebar
from ui.text import t

st.set_page_config(page_title=t("app.title"), page_icon=page_icon(), layout="wide")
pages = declared_pages()  # before the link is read: the pages declare the settings and tasks it may hold
init_session()  # language and shared-link choices next: page titles below are translated
class_mode.catch_up()  # a follower behind the lesson: straight to it (no turn needed to leave)
following = class_mode.is_following()
with TURNS.page_run(following, get_script_run_ctx()):  # a class's followers one at a time, yielding to the others
    listed = {t(f"nav.{g}"): [streamlit_page(p, t(p.title_key)) for p in pages if p.group == g] for g in GROUPS}
    page = st.navigation(
        listed,
        expanded=True,  # every page listed: Streamlit's "View more" link is English only
    )
    shown = next(p for p in pages if (p.url_path or "") == (page.url_path or ""))
    st.session_state["choices"] = render_sidebar()
    class_mode.attend(shown)  # a class: the lecturer's panel, or a student following
    class_poll.attend()  # a class's poll: where does the network look?
    prepare.offer()  # the lecturer's Prepare box: the lecture's links computed before class
    show_notices()  # what the link asked for that could not be done
    page.run()
    class_mode.publish(shown)  # the lecturer's page, as the class sees it
