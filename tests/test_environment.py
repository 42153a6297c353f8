"""environment.yml, pyproject.toml and requirements.lock describe one environment."""

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from colorkit.paths import REPO_ROOT


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        assert m, f"requirements.lock line is not an exact pin: {line!r}"
        pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def pyproject():
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def test_torch_pair_is_pinned():
    pins = lock_pins()
    assert pins["torch"] == "2.14.0"
    assert pins["torchvision"] == "0.29.2"


def test_every_dependency_is_locked_within_its_range():
    pins = lock_pins()
    project = pyproject()["project"]
    reqs = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    for spec in reqs:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is a dependency in pyproject.toml but not pinned in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"lock pins {name}=={pins[name]}, outside {req.specifier}")


def test_course_packages_are_locked():
    pins = lock_pins()
    for name in ["jupyterlab", "torch", "torchvision", "matplotlib", "ipywidgets", "scikit-image", "nbval",
                 "papermill", "tqdm", "av"]:
        assert name in pins, f"{name} missing from requirements.lock"


def test_environment_yml_uses_the_lock():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "-r requirements.lock" in pip
    assert "-e ." in pip
    assert pyproject()["project"]["requires-python"] == ">=3.11"


def test_lock_has_no_duplicates():
    lines = [line.split("==")[0].lower() for line in (REPO_ROOT / "requirements.lock").read_text().splitlines()
             if line and not line.startswith("#")]
    assert len(lines) == len(set(lines))
