"""Setuptools hook (the project's metadata is in pyproject.toml): a wheel carries the compiled
translations and the resources inside the ``app`` package (``packaging/bundle_data.py``)."""

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

sys.path.insert(0, str(Path(__file__).resolve().parent / "packaging"))
import bundle_data


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):  # an editable install reads the checkout
            bundle_data.stage(Path(self.build_lib) / "app")


setup(cmdclass={"build_py": BuildPyWithData})
