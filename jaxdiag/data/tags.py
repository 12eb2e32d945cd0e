"""Error-analysis tags of dev examples, from the user's CSV (Ng's spreadsheet of mistakes)."""

from pathlib import Path

import numpy as np


def read_dev_tags(path: str, dev_size: int) -> dict[str, np.ndarray]:
    """Error-analysis tags of dev examples from a CSV with a header ``index,tag`` (one row per
    tagged example and tag; indices as in report.json's worst mistakes); {} for no path.

    Returns:
      {tag: bool (dev_size,)}.

    Raises:
      ValueError: a missing file, another header, or an index outside the dev split, naming
        config key 'diagnose.tags_file'.
    """
    if not path:
        return {}
    key = "config key 'diagnose.tags_file'"
    if not Path(path).is_file():
        raise ValueError(f"{key}: no such file {path!r}.")
    lines = [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]
    if not lines or [h.strip() for h in lines[0].split(",")] != ["index", "tag"]:
        raise ValueError(f"{key}: expected the header 'index,tag' in {path!r}, found "
                         f"{lines[0] if lines else 'an empty file'!r}.")
    tags: dict[str, np.ndarray] = {}
    for number, line in enumerate(lines[1:], 2):
        index, _, tag = (part.strip() for part in line.partition(","))
        if not index.isdigit() or not int(index) < dev_size or not tag:
            raise ValueError(f"{key}: line {number} of {path!r}: expected a dev index in "
                             f"[0, {dev_size}) and a tag, found {line!r}.")
        tags.setdefault(tag, np.zeros(dev_size, bool))[int(index)] = True
    return tags
