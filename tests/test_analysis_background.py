"""When the background job runs the analysis of a real node: after a harvest changed the merged graph and a quiet
period, at most once per interval, not again on a graph already analysed (even by a restarted job)."""

from __future__ import annotations

import json
import time

import pytest

from dds_pod.analysis.background import AnalysisJob
from dds_pod.config import AnalysisConfig
from dds_pod.demo import seed_source

from .test_analysis_corpus import node_with

SETTINGS = AnalysisConfig(background=True, quiet_s=5, min_interval_s=100)


@pytest.fixture
def node(tmp_path):
    built = node_with(tmp_path)
    yield built
    built.close()


def add_proposal(node, tmp_path) -> None:
    folder = tmp_path / "more"
    folder.mkdir(exist_ok=True)
    (folder / "new.jsonld").write_text(json.dumps({
        "@context": "https://w3id.org/dds/context.jsonld", "id": "../proposals/new", "type": "Proposal",
        "title": {"fr": "Des bancs à l'ombre des arbres"}, "published": "2025-05-01T10:00:00Z"}), encoding="utf-8")
    seed_source(node, "paris", "jsonld", folder, None)
    node.harvester.sync_all()


def test_a_run_waits_for_the_quiet_period_then_for_the_interval(node, tmp_path):
    job = AnalysisJob(node.analysis, SETTINGS)
    start = time.monotonic()
    assert not job.tick(start)  # the change was just seen: a harvest may be going on
    assert node.analysis.published() is None
    assert job.tick(start + 6)
    first = node.analysis.published()
    assert first is not None and first.themes
    assert not job.tick(start + 7)  # nothing changed
    add_proposal(node, tmp_path)
    now = time.monotonic()
    assert not job.tick(now)
    assert not job.tick(now + 6)  # quiet, but the last run is too recent
    assert job.tick(now + 101)
    second = node.analysis.published()
    assert second is not first
    assert second.runs["themes"].snapshot != first.runs["themes"].snapshot
    restarted = AnalysisJob(node.analysis, SETTINGS)
    restarted.resume()  # what the job's thread does first: the published analysis read this graph already
    assert not restarted.tick(time.monotonic() + 1000)
    assert node.analysis.published() is second
