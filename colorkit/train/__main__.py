"""``python -m colorkit.train CONFIG [options]`` (what torchrun runs): train without sample scoring.

``colorkit train`` does the same and also scores the evaluation samples at the end.
"""

import argparse
import sys

from colorkit.errors import ColorkitError
from colorkit.train.cli import add_cli, run_cli

parser = argparse.ArgumentParser(prog="python -m colorkit.train")
add_cli(parser)
try:
    sys.exit(run_cli(parser.parse_args()))
except ColorkitError as exc:
    print(f"colorkit train: error: {exc}", file=sys.stderr)
    sys.exit(1)
