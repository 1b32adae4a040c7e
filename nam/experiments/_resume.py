"""Resumable results files of the experiments that train several models (`nam astrosnn retention|lm`): read
back and verified, reused only when made with the same options."""

import json
import os

from .._checks import check_bool, check_choices, check_output_dir
from ..astrosnn._models import MODEL_KINDS


def load_json(path):
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} is not a readable results file ({e}); delete it or use --restart") from None
    if not isinstance(data, dict):
        raise ValueError(
            f"{path} is not a results file of nam astrosnn (not a JSON object); delete it or use --restart"
        )
    return data


def check_options(results, options, path):
    """Finished results are reused only if they were made with the same options: checked for all of them
    before anything is trained, so one results file never mixes two configurations."""
    for name, result in results.items():
        saved = result.get("options") if isinstance(result, dict) else None
        if saved != options:
            saved = saved or {}
            diff = {k: (saved.get(k), v) for k, v in options.items() if saved.get(k) != v}
            raise ValueError(
                f"{path} holds {name} made with other options (saved, now): {diff}; use another --out, "
                "or --restart (restart=True) to start afresh"
            )


def start(out, filename, options, restart, models):
    """Checks before any compute: the models, the output folder (writable), earlier results' options.
    Returns (results path, earlier results, the models as a tuple)."""
    check_bool("restart", restart)
    models = check_choices("models", models, MODEL_KINDS)
    out = check_output_dir("`out`", out)
    path = os.path.join(out, filename)
    results = {} if restart else load_json(path)
    check_options(results, options, path)
    return path, results, models
