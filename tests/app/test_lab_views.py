"""The teaching labs through AppTest: each page draws, runs on real data, keeps its settings in the link and
refuses bad input."""

from __future__ import annotations

from tests.app.conftest import view


def test_draw_lab_reads_a_held_out_digit_and_shows_every_layer():
    app = view("draw")
    assert "Draw a digit in the square" in app.info[0].value  # the canvas starts empty
    app.radio(key="draw_source").set_value("example").run()
    assert not app.exception, app.exception
    index = app.selectbox(key="draw_example").value
    from sklearn.datasets import load_digits

    assert app.metric[0].value == str(load_digits().target[index])
    text = " ".join(m.value for m in app.markdown)
    for stage in (
        "**C1** — 6 maps of 28×28",
        "**S2** — 6 maps of 14×14",
        "**C3** — 16 maps of 10×10",
        "**S4** — 16 maps of 5×5",
        "**C5** — 120 units",
        "**F6** — 84 units",
    ):
        assert stage in text
    from tests.app.conftest import image_captions

    assert len(image_captions(app)) == 7  # the input and six stages


def test_draw_lab_opens_the_example_its_link_names_so_a_class_follows_it():
    from cnnviz.digits import split_indices

    index = int(split_indices()[1][3])
    app = view("draw", {"example": str(index)})
    assert app.radio(key="draw_source").value == "example" and app.selectbox(key="draw_example").value == index
    assert app.query_params["example"] == str(index)
    app.radio(key="draw_source").set_value("canvas").run()  # a drawing stays the student's own
    assert "example" not in app.query_params and not app.exception
    bad = view("draw", {"example": "99999"})
    assert bad.radio(key="draw_source").value == "canvas"
    assert any("example" in caption.value for caption in bad.caption)  # the link's bad value, said


def test_depth_lab_shows_the_precomputed_default_at_once_in_portuguese():
    app = view("depth", {"lang": "pt"})
    assert any("scripts/precompute_depth_lab.py" in c.value for c in app.caption)
    table = app.dataframe[0].value
    assert list(table["Rede"]) == [
        "20 camadas, simples",
        "20 camadas, residual",
        "56 camadas, simples",
        "56 camadas, residual",
    ]
    assert any("Como ler" in m.value for m in app.markdown)


def test_depth_lab_trains_the_settings_of_its_link_and_writes_them_back():
    """So a class follows the lecturer's run and a prepared link trains it; a bad value falls back."""
    app = view("depth", {"shallow": "8", "deep": "14", "epochs": "1", "bn": "0", "width": "65"})
    assert app.select_slider(key="depth_shallow").value == 8 and app.select_slider(key="depth_deep").value == 14
    assert app.slider(key="depth_epochs").value == 1 and app.checkbox(key="depth_bn").value is False
    assert app.slider(key="depth_width").value == 16 and "width" in " ".join(c.value for c in app.caption)
    app.button[0].click().run()
    assert not app.exception, app.exception
    assert any(c.value.startswith("Trained in") for c in app.caption)
    assert app.dataframe[0].value["Network"].iloc[0] == "8 layers, plain"
    link = {name: app.query_params[name] for name in ("shallow", "deep", "width", "epochs", "bn")}
    assert link == {"shallow": "8", "deep": "14", "width": "16", "epochs": "1", "bn": "0"}


def test_depth_lab_refuses_a_deep_net_shallower_than_the_shallow_one():
    app = view("depth")
    app.select_slider(key="depth_shallow").set_value(32)
    app.select_slider(key="depth_deep").set_value(14)
    app.button[0].click().run()
    assert not app.exception, app.exception
    assert "the deep one deeper than the shallow one" in app.error[0].value


def test_transfer_lab_with_own_images_needs_two_images_per_class():
    app = view("transfer")
    app.radio(key="transfer_source").set_value("own").run()
    app.button[0].click().run()
    assert not app.exception, app.exception
    assert "at least two classes" in app.error[0].value


def test_dropblock_lab_draws_masks_for_the_gallery_cat():
    app = view("dropblock")
    assert app.selectbox(key="drop_layer").value == "blocks.4.2"
    app.slider(key="drop_draws").set_value(8)
    app.button[0].click().run()
    assert not app.exception, app.exception
    titles = " ".join(m.value for m in app.markdown)
    assert "**dropout** —" in titles and "**DropBlock** —" in titles and "112×14×14" in titles
    table = app.dataframe[0].value
    assert list(table["Method"]) == ["dropout", "DropBlock"]
    assert all(kept.endswith("/ 8") for kept in table["Top-1 unchanged"])


def test_dropblock_settings_are_in_the_link_and_bad_ones_fall_back():
    """So a class follows the lecturer's run and a prepared link computes it (the rate as a percentage)."""
    app = view("dropblock", {"layer": "blocks.5.0", "rate": "20", "block": "3", "draws": "8"})
    assert app.selectbox(key="drop_layer").value == "blocks.5.0" and app.slider(key="drop_rate").value == 0.2
    assert app.select_slider(key="drop_block").value == 3 and app.slider(key="drop_draws").value == 8
    assert {name: app.query_params[name] for name in ("rate", "block", "draws")} == {
        "rate": "20",
        "block": "3",
        "draws": "8",
    }
    bad = view("dropblock", {"rate": "12", "block": "4", "draws": "999", "layer": "../etc"})
    assert bad.slider(key="drop_rate").value == 0.1 and bad.select_slider(key="drop_block").value == 5
    assert bad.slider(key="drop_draws").value == 32 and bad.selectbox(key="drop_layer").value == "blocks.4.2"
    assert len(bad.caption) > 0 and not bad.exception


def test_pooling_lab_shows_the_precomputed_default_at_once_in_spanish():
    app = view("pooling", {"lang": "es"})
    assert any("scripts/precompute_pooling_lab.py" in c.value for c in app.caption)
    table = app.dataframe[0].value
    assert list(table["Red"]) == ["max pooling", "convoluciones con stride 2"]
    assert list(table["Parámetros"]) == ["23,946", "23,946"]
    assert any(m.value.startswith("**Lectura:** la red con stride hace 4× menos") for m in app.markdown)
    assert len(app.get("vega_lite_chart")) == 1


def test_pooling_lab_trains_the_settings_of_its_link_and_writes_them_back():
    app = view("pooling", {"epochs": "1", "seeds": "1", "lr": "0.01"})
    assert app.slider(key="pool_epochs").value == 1 and app.select_slider(key="pool_lr").value == 0.01
    assert "press" in app.info[0].value.lower()  # not the shipped default: nothing trains before the press
    app.button[0].click().run(timeout=120)
    assert not app.exception, app.exception
    assert any(c.value.startswith("Trained in") for c in app.caption)
    table = app.dataframe[0].value
    assert list(table["Network"]) == ["max pooling", "stride-2 convolutions"]
    assert all(" · " not in seeds for seeds in table["Per seed"])  # one seed each
    assert {name: app.query_params[name] for name in ("epochs", "lr", "seeds")} == {
        "epochs": "1",
        "lr": "0.01",
        "seeds": "1",
    }


def test_pooling_lab_link_with_a_rate_it_does_not_offer_falls_back():
    app = view("pooling", {"lr": "0.002", "epochs": "0"})
    assert app.select_slider(key="pool_lr").value == 0.003 and app.slider(key="pool_epochs").value == 15
    assert app.query_params["lr"] == "0.003" and len(app.caption) > 0  # the default's shipped run is shown


def test_transfer_lab_reads_the_digits_run_from_its_link():
    app = view("transfer", {"per_class": "3", "size": "96", "epochs": "2"})
    assert app.slider(key="transfer_per_class").value == 3 and app.select_slider(key="transfer_size").value == 96
    assert app.slider(key="transfer_epochs").value == 2 and not app.exception
    app.slider(key="transfer_epochs").set_value(4).run()
    assert app.query_params["epochs"] == "4" and app.query_params["per_class"] == "3"
