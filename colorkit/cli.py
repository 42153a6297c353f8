"""The ``colorkit`` command.

Each sub-command lives in the module that owns the concept; this file only
routes. A module providing a command defines::

    def add_cli(parser: argparse.ArgumentParser) -> None: ...   # its arguments
    def run_cli(args: argparse.Namespace) -> int: ...           # exit status

Modules are imported only when their command runs, so ``colorkit --help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from colorkit.errors import ColorkitError

# command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("colorkit.data", "build the offline photo set / evaluation samples"),
    "colorize": ("colorkit.infer", "colorize images or folders with a trained model"),
    "video": ("colorkit.video", "colorize a video file (H.264 out, audio kept), with temporal smoothing"),
    "train": ("colorkit.train.cli", "train a model from a config in configs/"),
    "evaluate": ("colorkit.evaluate", "evaluate models on data/samples and write a metric table"),
    "reproduce": ("colorkit.course.reproduce", "run every notebook with papermill into reports/<profile>/"),
    "course": ("colorkit.course.commands", "course tools: lint, index, student edition"),
}


def _module_has_cli(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colorkit",
                                     description="Automatic image and video colorization course tools.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if not _module_has_cli(module_name):
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        # arguments are added lazily in main() for the chosen command only
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser.print_help() if (not argv or argv[0] in ("-h", "--help")) else parser.parse_args(argv)
        return 0 if (not argv or argv[0] in ("-h", "--help")) else 2
    name = argv[0]
    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(module_name)
    cmd_parser = argparse.ArgumentParser(prog=f"colorkit {name}", description=help_text)
    module.add_cli(cmd_parser)
    args = cmd_parser.parse_args(argv[1:])
    try:
        if name == "train":  # the trainer (layer 4) is handed the sample scoring of layer 5
            from colorkit.evaluate import snapshot_strip, training_scorer

            return int(module.run_cli(args, score=training_scorer, module="colorkit.cli", strip=snapshot_strip) or 0)
        status = int(module.run_cli(args) or 0)
        if name == "data" and args.action == "build" and not args.from_dir:  # the course's clips (layer 5) too
            from colorkit.video.clips import build_clips

            manifest = build_clips()
            print(f"video clips ready: {', '.join(manifest['clips'])}")
        return status
    except ColorkitError as exc:
        print(f"colorkit {name}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"colorkit {name}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
