#!/usr/bin/env bash
# The long end-to-end tests kept out of the default run (CI's 10-minute budget): SIGKILL
# `jaxdiag run` and `jaxdiag train` after their first checkpoint and check that the rerun ends
# with the numbers of an uninterrupted run; fill a 60 kB tmpfs under a run (where it can be
# mounted) and a 20 kB file-size limit, and resume each; train a halved population sharded
# over 4 forced CPU devices against one device, and a sweep on 4 devices against one; kill a
# one-process sweep at a random point and resume it; the main job with a remedy, a user's
# Linen model searched, the runner's head-only transfer and domain adaptation; the unshuffled
# tabular run, the GP sampler's Branin efficiency, the AP paired bootstrap; and screenshot a
# rendered report.html in headless Chromium (Debian: apt install chromium; skipped, and said
# so, where it is missing). About 4 minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pytest -m slow "$@"
