"""What the packages carry: the documented example configuration (the same file as the
one at the top of the repository), its licence, and no test or demo tooling; the emulator
and the tooling (demo, sandbox, harness) build wheels of their own, and with them
`corridor demo` runs when Corridor is installed from wheels rather than from a checkout."""

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


# The demo and test tooling: separate distributions (emulator/, devtools/), never in the bot's.
TOOLING = (
    "tgemulator/",
    "corridor_dev/",
    "bot/emulator/",
    "bot/sandbox/",
    "bot/harness.py",
    "bot/demo.py",
    "bot/demo_evidence.py",
    "bot/stories.py",
    "bot/fuzz.py",
)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three wheels (the bot, the emulator, the dev tooling), built offline from a copy
    of the project (so the checkout stays clean)."""
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
            str(source / "emulator"),
            str(source / "devtools"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    output = built.stdout + built.stderr
    assert "deprecated" not in output.lower(), output
    found = {}
    for name in ("corridor", "corridor_emulator", "corridor_dev"):
        (found[name],) = (work / "dist").glob(f"{name}-*.whl")
    return found


@pytest.fixture(scope="module")
def wheel(wheels: dict[str, Path]) -> Path:
    return wheels["corridor"]


def names_in(wheel: Path) -> set[str]:
    return set(zipfile.ZipFile(wheel).namelist())


def metadata(wheel: Path) -> str:
    name = next(n for n in names_in(wheel) if n.endswith(".dist-info/METADATA"))
    return zipfile.ZipFile(wheel).read(name).decode()


def test_the_wheel_carries_data_and_licence_but_no_tests(wheel: Path) -> None:
    names = names_in(wheel)
    for needed in (
        "bot/config.example.toml",
        "bot/locales/ne.po",
        "bot/webapp/static/index.html",
        "migrations/script.py.mako",
        "migrations/versions/20261122_0001_initial_schema.py",
    ):
        assert needed in names, needed
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "bench/")) for n in names)
    assert "License-Expression: AGPL-3.0-or-later" in metadata(wheel)


def test_the_wheel_carries_no_emulator_demo_or_test_tooling(wheel: Path) -> None:
    names = names_in(wheel)
    assert not [n for n in names if n.startswith(TOOLING)]
    tops = {n.split("/")[0] for n in names if ".dist-info/" not in n}
    assert tops == {"bot", "handlers", "models", "migrations"}
    assert "Requires-Dist: corridor" not in metadata(wheel)


def test_the_emulator_and_the_tooling_have_wheels_of_their_own(wheels: dict[str, Path]) -> None:
    emulator = names_in(wheels["corridor_emulator"])
    for needed in ("tgemulator/__main__.py", "tgemulator/server.py", "tgemulator/spec.json"):
        assert needed in emulator, needed
    assert {n.split("/")[0] for n in emulator if ".dist-info/" not in n} == {"tgemulator"}
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in emulator)
    requires = [
        line
        for line in metadata(wheels["corridor_emulator"]).splitlines()
        if "Requires-Dist" in line
    ]
    assert not [line for line in requires if "corridor" in line], requires

    tooling = names_in(wheels["corridor_dev"])
    for needed in (
        "corridor_dev/harness.py",
        "corridor_dev/demo.py",
        "corridor_dev/stories.py",
        "corridor_dev/fuzz.py",
        "corridor_dev/sandbox/static/index.html",
        "corridor_dev/sandbox/static/sandbox.js",
        "corridor_dev/sandbox/samples/photo.jpg",
        "corridor_dev/sandbox/samples/contract.pdf",
    ):
        assert needed in tooling, needed
    assert {n.split("/")[0] for n in tooling if ".dist-info/" not in n} == {"corridor_dev"}


def unpacked(tmp_path: Path, *wheels: Path) -> dict[str, str]:
    """An environment whose path holds only these wheels and the dependencies: no site
    processing (-S), so the checkout's editable installs are not on it."""
    installed = tmp_path / "site"
    for wheel in wheels:
        zipfile.ZipFile(wheel).extractall(installed)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join([str(installed), sysconfig.get_paths()["purelib"]]),
    }


def python(environment: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-S", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=600,
    )


IMPORT_ALL = """
import importlib, pkgutil, sys
for package in sys.argv[1:]:
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, package + "."):
        if module.name.rpartition(".")[2] not in ("__main__", "env"):
            importlib.import_module(module.name)
print(" ".join(sorted({name.partition(".")[0] for name in sys.modules})))
"""


def test_every_production_module_imports_without_the_tooling(wheel: Path, tmp_path: Path) -> None:
    environment = unpacked(tmp_path, wheel)
    tooling = python(environment, tmp_path, "-c", "import tgemulator")
    assert "No module named 'tgemulator'" in tooling.stderr
    imported = python(
        environment, tmp_path, "-c", IMPORT_ALL, "bot", "handlers", "models", "migrations"
    )
    assert imported.returncode == 0, imported.stderr[-3000:]
    loaded = set(imported.stdout.split())
    assert {"bot", "handlers", "models", "migrations", "aiogram"} <= loaded
    assert not loaded & {"tgemulator", "corridor_dev"}


def test_the_emulator_imports_nothing_from_the_bot(wheels: dict[str, Path], tmp_path: Path) -> None:
    environment = unpacked(tmp_path, wheels["corridor_emulator"])
    imported = python(environment, tmp_path, "-c", IMPORT_ALL, "tgemulator")
    assert imported.returncode == 0, imported.stderr[-3000:]
    loaded = set(imported.stdout.split())
    assert "tgemulator" in loaded and "aiogram" in loaded  # tgemulator.harness drives aiogram
    assert not loaded & {"bot", "handlers", "models", "migrations", "corridor_dev"}
    usage = python(environment, tmp_path, "-m", "tgemulator", "--help")
    assert usage.returncode == 0 and "python -m tgemulator" in usage.stdout, usage.stderr


def test_demo_and_sandbox_without_the_tooling_say_what_to_install(
    wheel: Path, tmp_path: Path
) -> None:
    environment = unpacked(tmp_path, wheel)
    for command in (["demo", "--quiet"], ["sandbox", "--no-browser", "--port", "0"]):
        ran = python(environment, tmp_path, "-m", "bot", *command)
        assert ran.returncode == 1, ran.stderr
        lines = ran.stderr.splitlines()
        assert len(lines) == 1 and "Traceback" not in ran.stderr, ran.stderr
        assert lines[0].startswith(f"{command[0]}: needs Corridor's development tools")
        assert "make setup" in lines[0] and "./devtools" in lines[0] and "./emulator" in lines[0]


def test_the_demo_runs_from_the_wheels(wheels: dict[str, Path], tmp_path: Path) -> None:
    environment = unpacked(tmp_path, *wheels.values())
    installed = tmp_path / "site"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def corridor(*argv: str) -> subprocess.CompletedProcess[str]:
        return python(environment, elsewhere, "-m", "bot", *argv)

    where = python(
        environment,
        elsewhere,
        "-c",
        "import bot, models, migrations, tgemulator, corridor_dev; "
        "print(bot.__file__, tgemulator.__file__, corridor_dev.__file__)",
    )
    assert where.stdout.split() == [
        str(installed / "bot" / "__init__.py"),
        str(installed / "tgemulator" / "__init__.py"),
        str(installed / "corridor_dev" / "__init__.py"),
    ], where.stderr
    example = corridor("example-config")
    assert example.returncode == 0 and example.stdout == EXAMPLE.read_text()
    demo = corridor("demo", "--quiet")
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "demo finished" in demo.stderr and "Traceback" not in demo.stderr
    assert list(elsewhere.iterdir()) == []
