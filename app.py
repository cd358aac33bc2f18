"""cnnviz web app: the router and the shared sidebar.

Each view is a function in a file of ``views/``, named after its URL path (``views/predict.py:predict`` is
served at ``/predict``). The folder is not called ``pages/``: Streamlit would also discover files there as
legacy pages, which then shadow the ``st.navigation`` routes. Run with ``streamlit run app.py``.
"""

import streamlit as st

from cnnviz.bundled import asset_path
from ui.links import show_notices
from ui.sidebar import init_session, render_sidebar
from ui.text import t
from views.arithmetic import conv_arithmetic
from views.compare import compare
from views.deconvnet import deconvnet_page
from views.depth import depth_page
from views.draw import draw_digit
from views.dropblock import dropblock_page
from views.layers import layers
from views.occlusion import occlusion_page
from views.predict import predict
from views.transfer import transfer_page

ICON = asset_path("icon.png")  # local: a lecture room may have no network

st.set_page_config(page_title=t("app.title"), page_icon=str(ICON), layout="wide")
init_session()  # language and shared-link choices first: page titles below are translated

page = st.navigation(
    {
        t("nav.explore"): [
            st.Page(predict, title=t("page.predict"), icon=":material/label:", default=True),
            st.Page(deconvnet_page, title=t("page.deconvnet"), icon=":material/layers:", url_path="deconvnet"),
            st.Page(occlusion_page, title=t("page.occlusion"), icon=":material/grid_on:", url_path="occlusion"),
            st.Page(layers, title=t("page.layers"), icon=":material/view_agenda:"),
            st.Page(compare, title=t("page.compare"), icon=":material/bubble_chart:"),
            st.Page(conv_arithmetic, title=t("page.arithmetic"), icon=":material/calculate:"),
        ],
        t("nav.labs"): [
            st.Page(draw_digit, title=t("page.draw"), icon=":material/draw:", url_path="draw"),
            st.Page(depth_page, title=t("page.depth"), icon=":material/stacked_line_chart:", url_path="depth"),
            st.Page(transfer_page, title=t("page.transfer"), icon=":material/school:", url_path="transfer"),
            st.Page(dropblock_page, title=t("page.dropblock"), icon=":material/blur_on:", url_path="dropblock"),
        ],
    }
)
st.session_state["choices"] = render_sidebar()
show_notices()  # what the link asked for that could not be done
page.run()
