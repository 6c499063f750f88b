"""Run one phase of one case in this (fresh) process and print its JSON result.

``python -m claimdesk.bench.worker CASE PHASE URL TMP ARGS_JSON`` (or ``@file`` holding it): ``TMP`` is the
run's folder (``bench/run --tmp``), where cases write their files; the last stdout line is
``{"result": ..., "peak_rss_mb": ...}`` (peak resident memory of this process). The config file
it reads is an empty one in ``TMP`` (a case that needs settings writes its own): a config on the
machine, say with the demo clinic's ``[clinic]``, never changes what is measured.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

from claimdesk.bench import dataset
from claimdesk.bench.memory import peak_rss_mb


def main(argv: list[str]) -> None:
    """Import ``claimdesk.bench.case_<CASE>``, call ``PHASE(url, **args)``, print the JSON line."""
    case, phase, url, tmp, args = argv[0], argv[1], argv[2], argv[3], argv[4]
    dataset.TMP = Path(tmp)
    config = dataset.TMP / "no-config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("", encoding="utf-8")
    os.environ["CLAIMDESK_CONFIG"] = str(config)
    args = json.loads(Path(args[1:]).read_text() if args.startswith("@") else args)
    module = importlib.import_module(f"claimdesk.bench.case_{case}")
    result = getattr(module, phase)(url, **args)
    print(json.dumps({"result": result, "peak_rss_mb": peak_rss_mb()}, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
