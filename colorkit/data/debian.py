"""Debian packages without installing them: download a .deb, read files out of it, read its licences.

    deb = fetch_deb("mate-backgrounds", data_dir() / "debs")    # apt-get download, kept for the next build
    files = deb_members(deb, ["usr/share/backgrounds/mate/nature/*.jpg"])   # path -> bytes
    paras = parse_dep5(files["usr/share/doc/mate-backgrounds/copyright"].decode())
    dep5_lookup(paras, "nature/Storm.jpg")   # {"licence": "GPL-2+", "author": ..., "pattern": "*"}

``apt-get download`` needs no root and installs nothing; ``dpkg-deb --fsys-tarfile`` streams the package's
file tree into Python's ``tarfile``. Licences come from the package's machine-readable
``usr/share/doc/PKG/copyright`` (DEP-5): the last ``Files:`` paragraph that matches a path wins.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from colorkit.errors import ColorkitError

NOT_DEBIAN = (
    "building the photo set needs Debian's `apt-get` and `dpkg-deb`, and {missing} is not installed "
    "(this does not look like a Debian or Ubuntu system). Train on a folder of your own photos instead: "
    "`colorkit data build --from DIR` indexes any folder tree of images (ImageNet, Places, COCO layouts ...), "
    "then `colorkit train CONFIG --data DIR`."
)


# --- fetching and reading a .deb ---------------------------------------------------------------------


def need_debian_tools() -> None:
    """ColorkitError pointing to ``--from DIR`` when ``apt-get`` or ``dpkg-deb`` is missing."""
    missing = [t for t in ("apt-get", "dpkg-deb") if shutil.which(t) is None]
    if missing:
        raise ColorkitError(NOT_DEBIAN.format(missing=" and ".join(f"`{m}`" for m in missing)))


def cached_deb(package: str, debs_dir: Path) -> Path | None:
    """The newest ``PACKAGE_*.deb`` already in ``debs_dir``, or None."""
    found = sorted(debs_dir.glob(f"{package}_*.deb"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def fetch_deb(package: str, debs_dir: Path) -> Path:
    """The .deb of ``package`` in ``debs_dir``: the cached one, else ``apt-get download`` (no install, no root).

    Runs ``apt-get update`` once (root only) when apt has no package lists yet.
    """
    cached = cached_deb(package, debs_dir)
    if cached is not None:
        return cached
    need_debian_tools()
    debs_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".download-{package}-", dir=debs_dir))
    try:
        cmd = ["apt-get", "download", package]
        r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        no_lists = "Unable to locate package" in r.stderr or "has no installation candidate" in r.stderr
        if r.returncode != 0 and no_lists:
            if hasattr(os, "geteuid") and os.geteuid() != 0:
                raise ColorkitError(
                    f"apt does not know the package {package} (no package lists yet?): "
                    "run `sudo apt-get update` once, then build again"
                )
            u = subprocess.run(["apt-get", "update"], capture_output=True, text=True)
            if u.returncode != 0:
                raise ColorkitError(f"`apt-get update` failed: {u.stderr.strip()[-500:]}")
            r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if r.returncode != 0:
            raise ColorkitError(
                f"`apt-get download {package}` failed (are Debian's mirrors reachable?): {r.stderr.strip()[-500:]}"
            )
        return keep_single_download(tmp, "*.deb", debs_dir, f"`apt-get download {package}`")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def keep_single_download(tmp: Path, pattern: str, dest: Path, what: str) -> Path:
    """Move the one file matching ``pattern`` that a download left in ``tmp`` into ``dest`` (the cache)."""
    got = list(tmp.glob(pattern))
    if len(got) != 1:
        raise ColorkitError(f"{what} left {len(got)} files matching {pattern}, expected one", path=tmp)
    final = dest / got[0].name
    os.replace(got[0], final)
    return final


def deb_version(deb: Path) -> str:
    """The ``Version`` field of a .deb's control file."""
    r = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True)
    if r.returncode != 0:
        raise ColorkitError(f"not a readable .deb: {r.stderr.strip()}", path=deb)
    return r.stdout.strip()


def in_pattern(name: str, pattern: str) -> bool:
    """fnmatch where ``*`` does not cross ``/`` (like a shell glob)."""
    return name.count("/") == pattern.count("/") and fnmatch.fnmatchcase(name, pattern)


def deb_members(deb: Path, patterns: list[str]) -> dict[str, bytes]:
    """Regular files of a .deb whose path (no leading ``./``) matches a glob: ``dpkg-deb --fsys-tarfile`` | tarfile."""
    need_debian_tools()
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if member.isfile() and any(in_pattern(name, p) for p in patterns):
                    out[name] = tar.extractfile(member).read()
    except tarfile.TarError as exc:
        proc.kill()
        raise ColorkitError(f"cannot read the .deb's file tree: {exc}", path=deb) from exc
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        rc = proc.wait()
    if rc != 0:
        raise ColorkitError(f"dpkg-deb --fsys-tarfile failed: {err.strip()[-500:]}", path=deb)
    return out


# --- licence files ---------------------------------------------------------------------------------


def normalise_licence(s: str) -> str:
    """One spelling per licence: 'Public  Domain' -> 'public-domain', 'CC BY-SA 4.0' -> 'CC-BY-SA-4.0'."""
    s = " ".join(s.split())
    if s.lower().replace("-", " ") == "public domain":
        return "public-domain"
    return re.sub(r"^(CC[- ]BY(?:[- ]SA)?)[- ](\d)", lambda m: m.group(1).replace(" ", "-") + "-" + m.group(2), s)


def parse_dep5(text: str) -> list[dict[str, str]]:
    """Paragraphs of a machine-readable debian/copyright (DEP-5) file: field name -> value (continuations joined)."""
    paras, cur, key = [], {}, None
    for line in text.splitlines():
        if not line.strip():
            if cur:
                paras.append(cur)
            cur, key = {}, None
        elif line[0] in " \t" and key:
            cur[key] += "\n" + ("" if line.strip() == "." else line.strip())
        elif ":" in line and not line.startswith("#"):
            key, _, value = line.partition(":")
            key = key.strip()
            cur[key] = value.strip()
    if cur:
        paras.append(cur)
    return paras


def dep5_lookup(paras: list[dict[str, str]], path: str, ignore_suffix: bool = False) -> dict[str, str] | None:
    """The last ``Files:`` paragraph matching ``path`` (DEP-5: ``*`` also matches ``/``; the last match wins).

    ``ignore_suffix`` also matches ``a/b.webp`` against ``a/b.jpg`` (a package that converted its images).
    Returns {"licence", "author", "pattern"} or None.
    """
    stem = os.path.splitext(path)[0]
    found = None
    for p in paras:
        if "Files" not in p:
            continue
        for pattern in p["Files"].split():
            hit = fnmatch.fnmatchcase(path, pattern)
            if not hit and ignore_suffix and os.path.splitext(pattern)[1]:
                hit = fnmatch.fnmatchcase(stem, os.path.splitext(pattern)[0])
            if hit:
                found = {
                    "licence": normalise_licence(p.get("License", "").split("\n")[0]),
                    "author": "; ".join(x.strip() for x in p.get("Copyright", "").split("\n") if x.strip()),
                    "pattern": pattern,
                }
                break
    return found
