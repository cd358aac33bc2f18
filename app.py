"""cnnviz web app: the router and the shared sidebar.

Each view is the function ``<name>_page`` of ``views/<name>.py``; its URL path is set below (the default
page, Predict, is ``/``). The folder is not called ``pages/``: Streamlit would also discover files there as
legacy pages, which then shadow the ``st.navigation`` routes. Run with ``streamlit run app.py``.
"""

import streamlit as st

from cnnviz.bundled import asset_path
from ui.links import show_notices
from ui.sidebar import init_session, render_sidebar
from ui.text import t
from views.arithmetic import arithmetic_page
from views.compare import compare_page
from views.deconvnet import deconvnet_page
from views.depth import depth_page
from views.draw import draw_page
from views.dropblock import dropblock_page
from views.hardware import hardware_page
from views.layers import layers_page
from views.localize import localize_page
from views.occlusion import occlusion_page
from views.pooling import pooling_page
from views.predict import predict_page
from views.transfer import transfer_page

ICON = asset_path("icon.png")  # local: a lecture room may have no network

st.set_page_config(page_title=t("app.title"), page_icon=str(ICON), layout="wide")
init_session()  # language and shared-link choices first: page titles below are translated

page = st.navigation(
    {
        t("nav.explore"): [
            st.Page(predict_page, title=t("page.predict"), icon=":material/label:", default=True),
            st.Page(deconvnet_page, title=t("page.deconvnet"), icon=":material/layers:", url_path="deconvnet"),
            st.Page(occlusion_page, title=t("page.occlusion"), icon=":material/grid_on:", url_path="occlusion"),
            st.Page(
                localize_page, title=t("page.localize"), icon=":material/center_focus_strong:", url_path="localization"
            ),
            st.Page(layers_page, title=t("page.layers"), icon=":material/view_agenda:", url_path="layers"),
            st.Page(compare_page, title=t("page.compare"), icon=":material/bubble_chart:", url_path="compare"),
            st.Page(
                arithmetic_page, title=t("page.arithmetic"), icon=":material/calculate:", url_path="conv_arithmetic"
            ),
            st.Page(hardware_page, title=t("page.hardware"), icon=":material/memory:", url_path="hardware"),
        ],
        t("nav.labs"): [
            st.Page(draw_page, title=t("page.draw"), icon=":material/draw:", url_path="draw"),
            st.Page(depth_page, title=t("page.depth"), icon=":material/stacked_line_chart:", url_path="depth"),
            st.Page(transfer_page, title=t("page.transfer"), icon=":material/school:", url_path="transfer"),
            st.Page(dropblock_page, title=t("page.dropblock"), icon=":material/blur_on:", url_path="dropblock"),
            st.Page(pooling_page, title=t("page.pooling"), icon=":material/grid_view:", url_path="pooling"),
        ],
    },
    expanded=True,  # every page listed: Streamlit's "View more" link is English only
)
st.session_state["choices"] = render_sidebar()
show_notices()  # what the link asked for that could not be done
page.run()
