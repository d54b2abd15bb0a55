"""The Solid CRUD test suite (npm solid-crud-tests) against a real node: a floor on how many of its tests pass,
so that a pod behaviour it checks cannot silently regress. `make conformance` prints the same run in full."""

from __future__ import annotations

import shutil

from tests.conformance import harness

from .conftest import tool_missing

PASSED_AT_LEAST = 61  # 63 pass (README, "Solid conformance"); two spare for its timing-bound websocket tests


def test_the_solid_crud_suite_passes_at_least_the_known_tests(tmp_path):
    if shutil.which("node") is None or not harness.JEST.exists():
        tool_missing(f"the Solid CRUD suite is not installed: run `npm ci --prefix {harness.HERE}` "
                     "(`make test` does it when npm is present)")
    result = harness.run(tmp_path)
    assert result.passed >= PASSED_AT_LEAST, "\n".join([result.summary(), *result.failures])
