"""GCompris' photos: inside five Qt resource files of ``gcompris-qt-data``, with a licence per file.

Each photo's licence comes from the README beside it inside the ``.rcc`` (upstream's record for the exact
files shipped); else from debian/copyright (which names some images by their older .jpg/.png names); else
the package default (``Files: *``), said so in ``licence_source``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from pathlib import Path

from colorkit.data import debian
from colorkit.data.candidates import Candidate
from colorkit.data.rcc import RccFile
from colorkit.errors import ColorkitError

GCOMPRIS_RCC = ("categorization", "explore_monuments", "erase", "explore_world_animals", "explore_farm_animals")
GCOMPRIS_PACKAGE = "gcompris-qt-data"
GCOMPRIS_COPYRIGHT = "usr/share/doc/gcompris-qt-data/copyright"
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".webp")


def parse_gcompris_readme(text: str) -> list[dict[str, object]]:
    """GCompris' per-folder README: blocks of Copyright / Source / License / Files (a list) fields."""
    blocks, cur, key = [], {}, None
    for line in text.splitlines() + [""]:
        if not line.strip():
            if cur:
                blocks.append(cur)
            cur, key = {}, None
            continue
        m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
        if m and m.group(1) in ("Copyright", "Source", "License", "Files", "Comments", "Comment"):
            key = m.group(1)
            cur[key] = m.group(2).strip()
        elif key:
            cur[key] = (cur[key] + "\n" + line.strip()).strip()
    out = []
    for b in blocks:
        files = [f for f in str(b.get("Files", "")).split() if f != "to"]
        if files and "License" in b:
            out.append(
                {
                    "files": files,
                    "licence": debian.normalise_licence(str(b["License"])),
                    "author": " ".join(str(b.get("Copyright", "")).split()),
                    "url": str(b.get("Source", "")).strip(),
                }
            )
    return out


def _short(member: str) -> str:
    """rcc member path -> photo name: 'gcompris/src/activities/erase/resource/alpaca.webp' -> 'erase/alpaca.webp'."""
    parts = member.removeprefix("gcompris/src/activities/").split("/")
    return "/".join(p for p in parts if p not in ("resource", "images"))


def gcompris_candidates(debs_dir: Path) -> Iterator[Candidate]:
    """Every image inside the five photo .rcc files of gcompris-qt-data, with its per-file licence."""
    deb = debian.fetch_deb(GCOMPRIS_PACKAGE, debs_dir)
    version = debian.deb_version(deb)
    rcc_paths = [f"usr/share/gcompris-qt/rcc/{n}.rcc" for n in GCOMPRIS_RCC]
    members = debian.deb_members(deb, rcc_paths + [GCOMPRIS_COPYRIGHT])
    missing = [p for p in rcc_paths + [GCOMPRIS_COPYRIGHT] if p not in members]
    if missing:
        raise ColorkitError(f"{GCOMPRIS_PACKAGE} {version} lacks {', '.join(missing)}", path=deb)
    dep5 = debian.parse_dep5(members[GCOMPRIS_COPYRIGHT].decode("utf-8", errors="replace"))
    for rcc_path in rcc_paths:
        rcc = RccFile(members[rcc_path], name=rcc_path)
        entries = rcc.files()
        readmes: dict[str, list] = {}
        for e in entries:
            if e.path.endswith("/README"):
                readmes[e.path.rsplit("/", 1)[0]] = parse_gcompris_readme(rcc.read(e).decode("utf-8", "replace"))
        for e in entries:
            if not e.path.lower().endswith(IMAGE_EXT):
                continue
            yield Candidate(
                name=f"gcompris/{_short(e.path)}",
                source="gcompris",
                package=GCOMPRIS_PACKAGE,
                version=version,
                original_path=f"{rcc_path}:{e.path}",
                data=rcc.read(e),
                **_licence(e.path, readmes, dep5),
            )


def _licence(member: str, readmes: dict[str, list], dep5: list[dict[str, str]]) -> dict[str, str]:
    folder = member.rsplit("/", 1)[0]
    while folder:  # the nearest README above the file that names it
        for block in readmes.get(folder, []):
            rel = member[len(folder) + 1 :]
            if any(fnmatch.fnmatchcase(rel, f) for f in block["files"]):
                return {
                    "licence": block["licence"],
                    "author": block["author"],
                    "url": block["url"],
                    "licence_source": f"{folder}/README (inside the .rcc)",
                }
        folder = folder.rsplit("/", 1)[0] if "/" in folder else ""
    hit = debian.dep5_lookup(dep5, member.removeprefix("gcompris/"), ignore_suffix=True)
    if hit and hit["pattern"] != "*":
        return {"licence": hit["licence"], "author": hit["author"], "url": "", "licence_source": "debian/copyright"}
    default = hit or {"licence": "unknown", "author": ""}
    return {
        "licence": default["licence"],
        "author": default["author"],
        "url": "",
        "licence_source": "package default (debian/copyright Files: *): the file is not listed individually",
    }
