"""What the package carries: the documented example configuration (the same file as the
one at the top of the repository), its licence, and everything `corridor demo` needs when
Corridor is installed from a wheel rather than run from a checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from bot.config import EXAMPLE_CONFIG
from tests.support import EXAMPLE, ROOT

# What a wheel is built from: the project without tests, benchmarks and local state.
NOT_SHIPPED = (
    ".git",
    ".venv",
    ".ci",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "tests",
    "bench",
    "*.sqlite3*",
)


def test_the_packaged_example_is_the_documented_one() -> None:
    assert EXAMPLE_CONFIG.read_bytes() == EXAMPLE.read_bytes(), (
        "bot/config.example.toml must be the link to ../config.example.toml"
    )


def test_the_licence_file_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "AGPL-3.0-or-later"
    assert project["license-files"] == ["LICENSE"]
    words = " ".join((ROOT / "LICENSE").read_text().split())
    assert words.startswith("GNU AFFERO GENERAL PUBLIC LICENSE Version 3, 19 November 2007")
    assert "13. Remote Network Interaction; Use with the GNU General Public License." in words
    assert "END OF TERMS AND CONDITIONS" in words


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline from a copy of the project (so the checkout stays clean)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-cache-dir",
            "--wheel-dir",
            str(work / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    output = built.stdout + built.stderr
    assert "deprecated" not in output.lower(), output
    (found,) = (work / "dist").glob("corridor-*.whl")
    return found


def test_the_wheel_carries_data_and_licence_but_no_tests(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "bot/config.example.toml",
        "bot/emulator/spec.json",
        "bot/locales/ne.po",
        "migrations/script.py.mako",
        "migrations/versions/20261122_0001_initial_schema.py",
    ):
        assert needed in names, needed
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "bench/")) for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: AGPL-3.0-or-later" in zipfile.ZipFile(wheel).read(metadata).decode()


def test_the_demo_runs_from_the_wheel(wheel: Path, tmp_path: Path) -> None:
    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # No site processing (-S): the checkout's editable install is not on the path, only the
    # unpacked wheel and the dependencies.
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join([str(installed), sysconfig.get_paths()["purelib"]]),
    }

    def corridor(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-S", "-m", "bot", *argv],
            capture_output=True,
            text=True,
            cwd=elsewhere,
            env=environment,
            timeout=600,
        )

    where = subprocess.run(
        [sys.executable, "-S", "-c", "import bot, models, migrations; print(bot.__file__)"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=environment,
    )
    assert where.stdout.strip() == str(installed / "bot" / "__init__.py"), where.stderr
    example = corridor("example-config")
    assert example.returncode == 0 and example.stdout == EXAMPLE.read_text()
    demo = corridor("demo", "--quiet")
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "demo finished" in demo.stderr and "Traceback" not in demo.stderr
    assert list(elsewhere.iterdir()) == []
