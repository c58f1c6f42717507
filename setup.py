"""Build hook (everything else is in pyproject.toml): a wheel carries the sample system and the notebooks.

They live at the top of the repository (``data/sample/``, ``notebooks/``), outside the package, so a plain
wheel would leave them behind and ``seamscope audit`` (the sample by default), ``make demo``'s equivalent and the
notebooks would not work once installed. ``build_py`` copies both into ``toolkit/_bundled/`` of the build;
``toolkit.config`` reads ``SAMPLE_DIR``/``NOTEBOOKS_DIR`` from there when the package has that copy, else from
the clone. An editable install (``pip install -e .``) reads the clone and copies nothing.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: folder of the clone -> folder under toolkit/ in the wheel
BUNDLED = {"data/sample": "_bundled/sample", "notebooks": "_bundled/notebooks"}
#: never shipped: what a run leaves beside them (labels written by the review widget, checkpoints, caches)
IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", "labels.csv", ".DS_Store")


class BuildWithBundled(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for src, dst in BUNDLED.items():
            source = HERE / src
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} is missing; build from a complete clone or sdist")
            target = Path(self.build_lib) / "toolkit" / dst
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(source, target, ignore=IGNORE)


setup(cmdclass={"build_py": BuildWithBundled})
