"""The benchmarks stay out of the product: the wheel leaves `bench` out, and nothing in it
imports `bench`, which an installed machine would not have (as `agility bench` once did)."""

from __future__ import annotations

import fnmatch
import tomllib

import pytest

from tests.test_layers import ROOT, imported_packages


def _wheel_patterns() -> list[str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    patterns: list[str] = tomllib.loads(text)["tool"]["setuptools"]["packages"]["find"]["include"]
    return patterns


def test_the_wheel_leaves_the_benchmarks_out() -> None:
    patterns = _wheel_patterns()
    assert not any(fnmatch.fnmatch(name, p) for p in patterns for name in ("bench", "bench.gates"))
    assert any(fnmatch.fnmatch("server", p) for p in patterns)


@pytest.mark.parametrize("package", ["server", "hardware", "drills", "web"])
def test_no_installed_package_imports_the_benchmarks(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    offenders = [str(p.relative_to(ROOT)) for p in files if "bench" in imported_packages(p)]
    assert not offenders, "\n".join(offenders)
