"""cnnviz web app: the router and the shared sidebar.

Each view is a function in a file of ``pages/``, named after its URL path (``pages/predict.py:predictions`` is
served at ``/predictions``). Run with ``streamlit run app.py``.
"""

import streamlit as st

from pages.predict import predictions
from ui.sidebar import render_sidebar
from ui.text import t

st.set_page_config(page_title=t("app.title"), page_icon="🧠", layout="wide")

page = st.navigation([st.Page(predictions, title=t("page.predict"), icon="🏷️", default=True)])
st.session_state["choices"] = render_sidebar()
page.run()
