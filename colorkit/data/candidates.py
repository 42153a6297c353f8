"""What a source offers: :class:`Candidate` files, and :class:`DebSource`, photos stored as plain files in a .deb.

A source yields candidates (bytes + where they came from + licence); the build (``photoset``) decides which
to keep. A ``DebSource`` is declared in ``sources.py`` by its package, the folder and globs of its photos,
and the files known not to be photos (``not_photos``, with the reason). Each file's licence comes from the
package's DEP-5 ``usr/share/doc/PKG/copyright``; where that file is free text, or says nothing about the
photos, ``licences`` gives them as read by a person from the file named in ``licence_file`` (the copyright
file by default).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from colorkit.data import debian
from colorkit.errors import ColorkitError


@dataclass
class Candidate:
    """One file a source offers, before it is checked."""

    name: str  # path under photos/, e.g. "gcompris/erase/alpaca.webp"
    source: str
    package: str
    version: str
    original_path: str  # inside the package (an .rcc member is "x.rcc:member")
    data: bytes
    licence: str
    author: str
    licence_source: str  # where the licence was read
    url: str = ""
    skip: str = ""  # known not to be a usable photo, and why
    cutout: bool = False  # an RGBA cut-out: composited on another kept photo by the build


@dataclass(frozen=True)
class DebSource:
    """Photos stored as plain files in a Debian package."""

    name: str
    package: str
    prefix: str  # folder inside the package the patterns are relative to
    patterns: tuple[str, ...]
    copyright: str
    upstream_prefix: str = ""  # prefix of the same file in the upstream tree that debian/copyright describes
    not_photos: tuple[tuple[str, str], ...] = ()  # (glob, reason)
    licences: tuple[tuple[str, str, str], ...] = ()  # (glob, licence, author) read from licence_file
    licence_file: str = ""  # where ``licences`` were read (default: the copyright file)
    desktop_licences: bool = False  # licence, author, url in a KDE ``<stem>.desktop`` beside each photo
    cutouts: bool = False  # the photos are RGBA cut-outs (see Candidate.cutout)


def first_match(rel: str, rules: tuple[tuple, ...]) -> tuple | None:
    """The first rule whose glob (``*`` not crossing ``/``) matches ``rel``."""
    return next((r for r in rules if debian.in_pattern(rel, r[0])), None)


def deb_source_candidates(src: DebSource, debs_dir: Path) -> Iterator[Candidate]:
    """The files of a plain Debian source, with licence and author from its copyright file."""
    deb = debian.fetch_deb(src.package, debs_dir)
    version = debian.deb_version(deb)
    extra = [src.licence_file] if src.licence_file else []
    desktop = [src.prefix + os.path.splitext(p)[0] + ".desktop" for p in src.patterns if src.desktop_licences]
    members = debian.deb_members(deb, [src.prefix + p for p in src.patterns] + [src.copyright] + extra + desktop)
    for need in [src.copyright] + extra:
        if need not in members:
            raise ColorkitError(f"{src.package} {version} lacks {need}", path=deb)
    dep5 = debian.parse_dep5(members.pop(src.copyright).decode("utf-8", errors="replace"))
    for f in extra:
        members.pop(f, None)
    sidecars = {p: members.pop(p) for p in [p for p in members if p.endswith(".desktop")]}
    for path in sorted(members):
        rel = path[len(src.prefix) :]
        sidecar = sidecars.get(os.path.splitext(path)[0] + ".desktop")
        lic = _desktop_licence(sidecar, path) if sidecar is not None else _licence(src, rel, dep5)
        yield Candidate(
            name=f"{src.name}/{rel}",
            source=src.name,
            package=src.package,
            version=version,
            original_path=path,
            data=members[path],
            **lic,
            skip=f"not a photo: {r[1]}" if (r := first_match(rel, src.not_photos)) else "",
            cutout=src.cutouts,
        )


def _desktop_licence(text: bytes, path: str) -> dict[str, str]:
    """Licence, author and url from a KDE ``.desktop`` file's ``X-KDE-PluginInfo-*`` fields."""
    fields = dict(ln.split("=", 1) for ln in text.decode("utf-8", "replace").splitlines() if "=" in ln)
    licence = debian.normalise_licence(fields.get("X-KDE-PluginInfo-License", "unknown"))
    return {
        "licence": {"FDL": "GFDL", "GNU-FDL": "GFDL"}.get(licence, licence),
        "author": fields.get("X-KDE-PluginInfo-Author", ""),
        "url": fields.get("X-KDE-PluginInfo-Website", ""),
        "licence_source": os.path.splitext(path)[0] + ".desktop",
    }


def _licence(src: DebSource, rel: str, dep5: list[dict[str, str]]) -> dict[str, str]:
    given = first_match(rel, src.licences)
    if given:
        return {"licence": given[1], "author": given[2], "licence_source": src.licence_file or src.copyright}
    hit = debian.dep5_lookup(dep5, src.upstream_prefix + rel)
    if hit is None:
        return {"licence": "unknown", "author": "", "licence_source": "not in debian/copyright"}
    where = "debian/copyright" if hit["pattern"] != "*" else "package default (debian/copyright Files: *)"
    return {"licence": hit["licence"], "author": hit["author"], "licence_source": where}
