"""Training: one loop for every method (:mod:`.loop`), its configs (:mod:`.config`), the seeded data
stream (:mod:`.stream`), multi-process training (:mod:`.distributed`) and the command line (:mod:`.cli`).

    colorkit train configs/reg_l2.yaml --profile quick
    colorkit train configs/reg_l2.yaml --profile full --resume --nproc 2
    torchrun --nproc-per-node 2 -m colorkit.train configs/reg_l2.yaml

Outputs go to ``data_dir()/runs/NAME/PROFILE/`` (``checkpoint.pt``, ``log.csv``,
``config.yaml``); committed checkpoints in ``data/checkpoints/`` change only
through an explicit ``export_to``.
"""

from colorkit.checkpoint import read_log
from colorkit.train.config import DEFAULTS, TRAIN_PROFILES, load_config, lr_factor, merge, resolve_config_path
from colorkit.train.loop import device_description, run_dir_for, train
from colorkit.train.stream import SeededItems, StreamSampler, rng_state, set_rng_state

__all__ = ["DEFAULTS", "TRAIN_PROFILES", "SeededItems", "StreamSampler", "device_description", "load_config",
           "lr_factor", "merge", "read_log", "resolve_config_path", "rng_state", "run_dir_for", "set_rng_state",
           "train"]
