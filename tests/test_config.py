"""The configuration's typed settings: the [store] table and its registry, [import], [server], unknown keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from dds_pod.config import AnalysisConfig, ConfigError, from_dict, load
from dds_pod.node import Node
from dds_pod.store import StoreSettings, open_store, read_settings, refuse_unknown_options, register
from dds_pod.store.oxigraph import OxigraphStore

BASE = {"base_url": "http://127.0.0.1:8000/", "pods": {"p": {"platform": "https://p.example", "token": "t"}}}


def _config(tmp_path: Path | None = None, **keys):
    return from_dict({**BASE, **keys}, relative_to=tmp_path or Path())


def test_store_as_a_plain_name_keeps_its_meaning(tmp_path):
    assert _config(store="oxigraph").store == StoreSettings("oxigraph", {"path": None})
    on_disk = _config(tmp_path, store="oxigraph", data_dir="var")
    assert on_disk.store == StoreSettings("oxigraph", {"path": tmp_path / "var"})
    assert _config().store == StoreSettings("oxigraph", {"path": None}), "the default backend, in memory"


def test_store_table_names_the_backend_and_its_options(tmp_path):
    config = _config(tmp_path, data_dir="var", store={"backend": "oxigraph", "path": "elsewhere"})
    assert config.store == StoreSettings("oxigraph", {"path": tmp_path / "elsewhere"})
    assert _config(tmp_path, data_dir="var", store={"backend": "oxigraph"}).store.options["path"] == tmp_path / "var"
    node = Node(config)
    try:
        assert (tmp_path / "elsewhere").is_dir() and (tmp_path / "elsewhere" / "federation").is_dir()
        # the data directory keeps only what has no path of its own: the search index and the pods' files
        assert {p.name for p in (tmp_path / "var").iterdir()} <= {"search.sqlite3", "search.sqlite3-wal",
                                                                   "search.sqlite3-shm", "files"}
    finally:
        node.close()


@pytest.mark.parametrize("store", ["rdf4j", {"backend": "rdf4j"}, {"backend": 3}])
def test_an_unknown_backend_is_named(store):
    with pytest.raises(ConfigError) as raised:
        _config(store=store)
    assert raised.value.field == "store.backend"
    assert "unknown store backend" in raised.value.message and "oxigraph" in raised.value.message


def test_an_unknown_or_bad_option_is_named():
    with pytest.raises(ConfigError) as raised:
        _config(store={"backend": "oxigraph", "pth": "var"})
    assert raised.value.field == "store.pth" and raised.value.message.endswith("known: backend, path")
    with pytest.raises(ConfigError) as raised:
        _config(store={"path": 3})
    assert raised.value.field == "store.path"
    with pytest.raises(ConfigError) as raised:
        _config(store=["oxigraph"])
    assert raised.value.field == "store"


def test_a_registered_backend_is_opened_by_every_caller_without_change():
    opened: list[tuple[dict, str]] = []

    def read_options(raw, context):
        refuse_unknown_options("recording", raw, {"endpoint"})
        return {"endpoint": raw.get("endpoint", "http://sparql.example/")}

    def open_recording(options, part):
        opened.append((dict(options), part))
        return OxigraphStore()

    register("recording", read_options, open_recording)
    settings = read_settings({"backend": "recording", "endpoint": "http://127.0.0.1:7878/"}, context=None)
    assert isinstance(open_store(settings, part="federation"), OxigraphStore)
    node = Node(_config(store={"backend": "recording"}))
    node.close()
    default = {"endpoint": "http://sparql.example/"}
    assert opened == [({"endpoint": "http://127.0.0.1:7878/"}, "federation"), (default, ""), (default, "federation")]
    with pytest.raises(ConfigError, match=r"store\.user"):
        _config(store={"backend": "recording", "user": "x"})


@pytest.mark.parametrize(("keys", "field"), [
    ({"page_sise": 10}, "page_sise"),
    ({"federation": {"interval": 5}}, "federation.interval"),
    ({"server": {"thread": 4}}, "server.thread"),
    ({"import": {"pseudonym": "x" * 20}}, "import.pseudonym"),
    ({"catalog": {"record": {}}}, "catalog.record"),
    ({"analysis": {"quiet": 5}}, "analysis.quiet"),
    ({"pods": {"p": {"platform": "https://p.example", "token": "t", "langage": "fr"}}}, "pods.p.langage"),
])
def test_an_unknown_key_is_refused_by_name(keys, field):
    with pytest.raises(ConfigError) as raised:
        _config(**keys)
    assert raised.value.field == field
    assert raised.value.message.startswith(f"unknown setting {field!r}")


def test_the_pseudonym_key_comes_from_the_environment_first(monkeypatch):
    monkeypatch.delenv("DDS_PSEUDONYM_KEY", raising=False)
    assert _config().import_settings.pseudonym_key is None
    from_file = _config(**{"import": {"pseudonym_key": "file-key-0123456789"}})
    assert from_file.import_settings.pseudonym_key == "file-key-0123456789"
    monkeypatch.setenv("DDS_PSEUDONYM_KEY", "environment-key-0123456789")
    both = _config(**{"import": {"pseudonym_key": "file-key-0123456789"}})
    assert both.import_settings.pseudonym_key == "environment-key-0123456789"
    assert _config().import_settings.pseudonym_key == "environment-key-0123456789"


def test_a_short_pseudonym_key_is_refused_where_it_comes_from(monkeypatch):
    monkeypatch.delenv("DDS_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ConfigError) as raised:
        _config(**{"import": {"pseudonym_key": "short"}})
    assert raised.value.field == "import.pseudonym_key"
    monkeypatch.setenv("DDS_PSEUDONYM_KEY", "short")
    with pytest.raises(ConfigError) as raised:
        _config()
    assert raised.value.field == "DDS_PSEUDONYM_KEY"


def test_server_limits_have_defaults_and_are_checked():
    server = _config(server={"threads": 4, "header_timeout_s": 2.5}).server
    assert (server.threads, server.header_timeout_s, server.body_timeout_s) == (4, 2.5, 60.0)
    for bad in ({"threads": 0}, {"body_timeout_s": "soon"}, {"connection_limit": True}):
        with pytest.raises(ConfigError) as raised:
            _config(server=bad)
        assert raised.value.field == f"server.{next(iter(bad))}"
    with pytest.raises(ConfigError) as raised:
        _config(server="fast")
    assert raised.value.field == "server"


def test_a_file_is_read_relative_to_its_folder(tmp_path):
    path = tmp_path / "node.toml"
    path.write_text('base_url = "http://127.0.0.1:8000"\n[store]\nbackend = "oxigraph"\npath = "db"\n'
                    '[pods.p]\nplatform = "https://p.example"\ntoken = "t"\n', encoding="utf-8")
    config = load(path)
    assert config.base_url == "http://127.0.0.1:8000/" and config.store.options["path"] == tmp_path / "db"
    path.write_text('base_url = "http://127.0.0.1:8000/"\nstorre = "oxigraph"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="storre"):
        load(path)


def test_files_table_sets_the_limit_and_the_allowed_types():
    assert _config().max_file_bytes == _config().max_body_bytes, "by default, the limit of any body"
    config = _config(files={"max_bytes": 1000, "media_types": ["Image/PNG"]})
    assert config.max_file_bytes == 1000 and config.files.media_types == {"image/png"}
    for bad, field in (({"max_bytes": 0}, "files.max_bytes"), ({"media_types": ["png"]}, "files.media_types"),
                       ({"media_type": []}, "files.media_type")):
        with pytest.raises(ConfigError) as refused:
            _config(files=bad)
        assert refused.value.field == field


def test_analysis_table_has_defaults_and_is_checked():
    assert _config().analysis == AnalysisConfig()
    assert (AnalysisConfig().enabled, AnalysisConfig().background) == (True, False)
    analysis = _config(analysis={"background": True, "quiet_s": 0, "min_interval_s": 30, "max_text_chars": 500,
                                 "llm": {"enabled": False}}).analysis
    assert analysis == AnalysisConfig(enabled=True, background=True, quiet_s=0.0, min_interval_s=30.0,
                                      max_text_chars=500)
    for bad in ({"enabled": "yes"}, {"background": 1}, {"quiet_s": -1}, {"quiet_s": True}, {"min_interval_s": 0},
                {"max_text_chars": 2.5}):
        with pytest.raises(ConfigError) as raised:
            _config(analysis=bad)
        assert raised.value.field == f"analysis.{next(iter(bad))}"
    with pytest.raises(ConfigError) as raised:
        _config(analysis="often")
    assert raised.value.field == "analysis"


def test_a_node_that_never_analyses_keeps_no_pseudonym_key(tmp_path):
    node = Node(_config(tmp_path, data_dir="var"))
    try:
        assert not (tmp_path / "var" / "analysis-pseudonym.key").exists()
    finally:
        node.close()
